"""Membership grading by value: the tier ladder."""
