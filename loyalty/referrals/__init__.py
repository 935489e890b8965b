"""Referrals: codes, who introduced whom, and rewards paid only for real first purchases."""
