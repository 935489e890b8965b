"""What members bought: the orders and refunds tables, and the facts other features read from them.

`orders` (the checkout entry) writes these rows; tiers, referrals, care, insights and campaigns
read facts about them (qualifying values, first orders, order rhythm, conversions). Those features
sit below `orders` (orders calls their services at checkout), so the tables and the reads live one
layer lower, above `core` and beside `members`, where every feature can import them directly and
no callback has to be handed in at start. This package imports nothing but `core`.
"""
