"""Webhooks: signed deliveries of events to the endpoints organizations register."""
