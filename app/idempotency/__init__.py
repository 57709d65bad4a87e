"""Idempotent retries: the record of each `Idempotency-Key` and the answer it produced."""
