"""Memberships: which accounts belong to which organizations, with which role."""
