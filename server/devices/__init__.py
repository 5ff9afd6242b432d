"""Booth tablets: pairing, tokens and revocation."""
