"""API key secrets: recognisable, verified by keyed hash only, under current or retired keys."""

from app.access.keys import KeyHasher, KeyKind, looks_like_key, parse_key

CURRENT, RETIRED, OTHER = "c" * 48, "r" * 48, "o" * 48


def test_a_minted_key_is_recognisable_and_verifies_by_its_digest_alone() -> None:
    minted = KeyHasher([CURRENT]).mint(KeyKind.ORGANIZATION)

    presented = parse_key(minted.secret)

    assert minted.secret.startswith(f"{minted.prefix}")
    assert minted.prefix.startswith("tko_")
    assert len(minted.prefix) == 28
    assert minted.secret not in minted.digest
    assert str(minted.key_id) not in minted.digest
    assert presented is not None
    assert presented.key_id == minted.key_id
    assert presented.kind is KeyKind.ORGANIZATION
    assert KeyHasher([CURRENT]).matches(presented, minted.digest)


def test_a_key_hashed_under_a_retired_signing_key_verifies_while_it_is_listed() -> None:
    minted = KeyHasher([RETIRED]).mint(KeyKind.PLATFORM)
    presented = parse_key(minted.secret)
    assert presented is not None

    assert KeyHasher([CURRENT, RETIRED]).matches(presented, minted.digest)
    assert not KeyHasher([CURRENT, OTHER]).matches(presented, minted.digest)


def test_a_changed_secret_does_not_verify() -> None:
    hasher = KeyHasher([CURRENT])
    minted = hasher.mint(KeyKind.ORGANIZATION)
    last = minted.secret[-1]
    changed = parse_key(minted.secret[:-1] + ("A" if last != "A" else "B"))

    assert changed is not None
    assert not hasher.matches(changed, minted.digest)


def test_only_the_key_shapes_parse() -> None:
    minted = KeyHasher([CURRENT]).mint(KeyKind.ORGANIZATION)

    assert looks_like_key(minted.secret)
    assert not looks_like_key("eyJhbGciOiJIUzI1NiJ9.e30.x")
    for wrong in ("", "tko_", minted.secret[:-1], minted.secret + "x", "tkx" + minted.secret[3:]):
        assert parse_key(wrong) is None, wrong
