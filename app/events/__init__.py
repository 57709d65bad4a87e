"""Events: one record of each state change, kept in order per organization."""
