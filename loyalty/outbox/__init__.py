"""Mails and webhooks written in the business transaction, delivered after it commits."""
