"""The Standard Webhooks headers of a message, signed with `standardwebhooks` (its `sign` is
the specification's HMAC-SHA256 over `id.timestamp.body`; every live secret signs, so a
receiver holding the old or the new secret verifies during a rotation's grace period)."""

from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def signed_headers(
    message_id: str, timestamp: datetime, body: str, secrets: list[str]
) -> dict[str, str]:
    moment = timestamp.astimezone(UTC)
    signatures = " ".join(Webhook(secret).sign(message_id, moment, body) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": "Tenantry-Webhooks/1",
    }
