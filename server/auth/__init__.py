"""Authentication (bearer tokens for users and tablets) and authorisation by role."""
