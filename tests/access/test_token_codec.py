"""The token codec remembers tokens it verified, never past their expiry."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from bson import ObjectId

from app.access import tokens
from app.access.tokens import TokenCodec
from app.errors import NotAuthenticated, TokenExpired

KEY = "k" * 64


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def codec(clock: Clock) -> TokenCodec:
    return TokenCodec(
        keys=[KEY],
        algorithm="HS256",
        lifetime=timedelta(minutes=30),
        issuer="tenantry",
        audience="tenantry-api",
        clock=clock,
    )


def test_a_token_verified_once_is_not_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens_codec = codec(Clock())
    issued = tokens_codec.issue(ObjectId(), ObjectId(), "a@example.com", role="owner")
    first = tokens_codec.decode(issued.token)

    def no_second_check(*args: object, **kwargs: object) -> None:
        raise AssertionError("the signature was checked again")

    monkeypatch.setattr(jwt, "decode", no_second_check)

    assert tokens_codec.decode(issued.token) == first


def test_a_remembered_token_still_expires() -> None:
    clock = Clock()
    tokens_codec = codec(clock)
    issued = tokens_codec.issue(ObjectId(), ObjectId(), "a@example.com", role="owner")
    tokens_codec.decode(issued.token)

    clock.now = issued.expires_at

    with pytest.raises(TokenExpired):
        tokens_codec.decode(issued.token)


def test_a_refused_token_is_not_remembered() -> None:
    tokens_codec = codec(Clock())
    issued = tokens_codec.issue(ObjectId(), ObjectId(), "a@example.com", role="owner")
    tampered = issued.token[:-2] + ("AA" if not issued.token.endswith("AA") else "BB")

    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            tokens_codec.decode(tampered)


def test_only_the_latest_tokens_are_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_TOKENS_KEPT", 2)
    tokens_codec = codec(Clock())
    issued = [
        tokens_codec.issue(ObjectId(), ObjectId(), "a@example.com", role="owner").token
        for _ in range(3)
    ]
    for token in issued:
        tokens_codec.decode(token)
    checked: list[str] = []
    real_decode = jwt.decode

    def counting(token: str, *args: object, **kwargs: object) -> object:
        checked.append(token)
        return real_decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting)
    for token in (issued[1], issued[2], issued[0]):
        tokens_codec.decode(token)

    assert checked == [issued[0]]
