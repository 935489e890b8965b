"""Insights: who the valuable members are, who is drifting away, how the program stands."""
