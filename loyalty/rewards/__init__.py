"""The rewards catalog and the single-use coupons redeeming a reward issues."""
