"""The checkout entry: orders award points, refunds reverse them, quotes write nothing."""
