"""Consent: an append-only, hash-chained ledger of consent events and the state derived from it."""
