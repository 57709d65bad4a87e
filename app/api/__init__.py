"""The HTTP layer: the only package (with `app.factory`) that knows FastAPI."""
