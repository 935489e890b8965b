"""Bulk import of a shop's history from CSV: members, then orders (`loyalty import members|orders FILE`)."""
