"""The points ledger: append-only entries, FIFO lots, a cached balance per member."""
