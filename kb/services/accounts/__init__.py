"""Accounts and security: sign-up and log-in, sessions, two-step verification, API tokens, personal data."""
