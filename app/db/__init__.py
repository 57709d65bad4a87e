"""MongoDB access: the client (a real server or the in-memory store), names, and indexes."""
