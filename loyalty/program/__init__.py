"""The program: one per deployment, its currency, calendar and earning defaults."""
