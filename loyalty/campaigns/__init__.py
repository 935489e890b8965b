"""Segments (saved member filters compiled to one SQL query) and, next, campaigns."""
