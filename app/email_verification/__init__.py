"""Proving an account receives mail at its address: a single-use link, sent on request."""
