"""The tenant data plane: JSON documents in each organization's own collection."""
