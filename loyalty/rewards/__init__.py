"""Rewards catalogue and vouchers: what points buy, and what rules grant."""
