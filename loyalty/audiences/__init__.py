"""Audiences: members a marketer may contact, honouring consent, channel and contact frequency."""
