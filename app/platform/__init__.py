"""Platform keys and the operator's management of every organization (`/api/v1/admin`)."""
