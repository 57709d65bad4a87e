"""Properties of the naming rules over arbitrary Unicode names (Hypothesis)."""

import re

from hypothesis import example, given
from hypothesis import strategies as st

from app.db.naming import (
    MAX_IDENTIFIER_LENGTH,
    TENANT_COLLECTION_PREFIX,
    InvalidName,
    identifier_for,
    name_key,
    tenant_collection_for,
    validate_name,
)

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
names = st.text(min_size=1, max_size=120)


def valid_or_none(name: str) -> str | None:
    try:
        return validate_name(name)
    except InvalidName:
        return None


@given(names)
@example("Ξ Corp")
@example("1,000 Corp")
def test_identifiers_are_slugs(name: str) -> None:
    identifier = identifier_for(name)

    assert identifier == "" or SLUG.fullmatch(identifier)


@given(names)
def test_a_valid_name_gives_a_legal_bounded_collection_name(name: str) -> None:
    display = valid_or_none(name)
    if display is None:
        return
    collection = tenant_collection_for(identifier_for(display))

    assert collection.startswith(TENANT_COLLECTION_PREFIX)
    assert not collection.startswith("system.")
    assert "$" not in collection
    assert "\x00" not in collection
    assert len(collection) <= len(TENANT_COLLECTION_PREFIX) + MAX_IDENTIFIER_LENGTH
    assert len(f"{'d' * 63}.{collection}".encode()) <= 255


@given(names, st.sampled_from([str.upper, str.lower, str.title, str.swapcase]))
@example("ξ Corp", str.upper)
@example("straße", str.upper)
def test_names_with_equal_keys_share_an_identifier(name: str, change: object) -> None:
    assert callable(change)
    other = change(name)
    if name_key(other) == name_key(name):
        assert identifier_for(other) == identifier_for(name)


@given(names, st.text(alphabet=" \t\n", min_size=1, max_size=3))
def test_surrounding_and_repeated_whitespace_never_makes_a_new_name(name: str, space: str) -> None:
    spaced = f"{space}{name.replace(' ', space)}{space}"

    assert name_key(spaced) == name_key(name)
    assert identifier_for(spaced) == identifier_for(name)


@given(st.from_regex(SLUG, fullmatch=True).filter(lambda s: len(s) <= MAX_IDENTIFIER_LENGTH))
def test_the_collection_name_maps_back_to_exactly_one_identifier(identifier: str) -> None:
    collection = tenant_collection_for(identifier)

    recovered = collection.removeprefix(TENANT_COLLECTION_PREFIX).replace("_", "-")

    assert recovered == identifier


@given(names)
def test_validation_is_idempotent(name: str) -> None:
    display = valid_or_none(name)
    if display is None:
        return

    assert validate_name(display) == display
    assert identifier_for(display) == identifier_for(name)
