"""Passwords, access tokens and who is calling."""
