"""Members: the complete record of each customer."""
