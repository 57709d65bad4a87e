"""Signatures as the Standard Webhooks specification's published test vector has them."""

from datetime import UTC, datetime

from bson import ObjectId
from standardwebhooks.webhooks import Webhook

from app.webhooks.secrets import SecretBox, new_secret
from app.webhooks.signing import signed_headers

# The specification's reference vector (its "sign function works" test).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = '{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_headers_carry_the_reference_signature() -> None:
    headers = signed_headers(MESSAGE_ID, datetime.fromtimestamp(TIMESTAMP, UTC), BODY, [SECRET])
    assert headers["webhook-id"] == MESSAGE_ID
    assert headers["webhook-timestamp"] == str(TIMESTAMP)
    assert headers["webhook-signature"] == SIGNATURE


def test_every_live_secret_signs_and_each_verifies() -> None:
    old, new = new_secret(), new_secret()
    now = datetime.now(UTC)
    headers = signed_headers("evt_1", now, BODY, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(BODY, headers) == {"test": 2432232314}


def test_secrets_are_sealed_to_their_endpoint() -> None:
    box = SecretBox(["a-service-key-of-some-length-0123456789"])
    endpoint, other = ObjectId(), ObjectId()
    secret = new_secret()
    sealed = box.seal(endpoint, secret)
    assert secret.encode() not in sealed
    assert box.open(endpoint, sealed) == secret
    assert box.open(other, sealed) is None
    rotated = SecretBox(
        ["a-new-service-key-0123456789abcdef", "a-service-key-of-some-length-0123456789"]
    )
    assert rotated.open(endpoint, sealed) == secret
