"""Pages of an account: sign-up, log-in and two-step verification, the profile, sessions and personal data."""
