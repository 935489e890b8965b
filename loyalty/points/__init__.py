"""Points: the append-only ledger, lots, balances, earning rules and expiry."""
