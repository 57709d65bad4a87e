"""Invitations: bringing people into an organization by email, with a single-use token."""
