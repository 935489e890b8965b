"""The till's lookup: who is this customer, what tier and discount, what can they spend."""
