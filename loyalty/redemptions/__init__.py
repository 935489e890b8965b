"""Paying with points: hold, capture, cancel; holds that time out are released by a job."""
