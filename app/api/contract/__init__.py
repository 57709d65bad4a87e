"""The compatibility contract: the six endpoints existing scripts call, fixed to the letter,
plus the session endpoints beside `POST /admin/login`."""
