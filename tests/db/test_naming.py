import pytest

from app.db.naming import (
    MAX_IDENTIFIER_LENGTH,
    InvalidName,
    identifier_for,
    name_key,
    normalize_display_name,
    tenant_collection_for,
    validate_name,
)


@pytest.mark.parametrize(
    ("name", "identifier"),
    [
        ("Tech Innovations Corp", "tech-innovations-corp"),
        ("Tech Innovations Corp 2.0", "tech-innovations-corp-2-0"),
        ("Crème Brûlée", "creme-brulee"),
        ("Straße & Söhne", "strasse-sohne"),
        ("  --Édition__Spéciale--  ", "edition-speciale"),
        ("a_b.c/d\\e", "a-b-c-d-e"),
        ("&amp; Co", "amp-co"),
        ("Ωmega", "omega"),
        ("Москва", "moskva"),
        ("٣ Arabic digits", "3-arabic-digits"),
        ("🚀 Rocket", "rocket"),
    ],
)
def test_identifier_is_the_ascii_slug(name: str, identifier: str) -> None:
    assert identifier_for(name) == identifier


@pytest.mark.parametrize("name", ["!!!", "---", "🚀", "   "])
def test_names_without_letters_or_digits_are_invalid(name: str) -> None:
    with pytest.raises(InvalidName, match=r"letter or digit|empty"):
        validate_name(name)


def test_tenant_collection_swaps_dashes_for_underscores() -> None:
    assert tenant_collection_for("tech-innovations-corp-2-0") == "tenant_tech_innovations_corp_2_0"


def test_display_name_collapses_whitespace_and_keeps_case() -> None:
    assert normalize_display_name("  Tech \t Innovations\nCorp ") == "Tech Innovations Corp"


def test_name_key_ignores_case_width_and_whitespace() -> None:
    assert (
        name_key("TECH  Innovations")
        == name_key("tech innovations")
        == name_key("\uff54\uff45\uff43\uff48 innovations")  # full-width "tech"
    )
    assert name_key("Straße") == name_key("STRASSE")


def test_composed_and_decomposed_accents_are_one_name() -> None:
    composed, decomposed = "Caf\u00e9", "Cafe\u0301"

    assert validate_name(decomposed) == composed
    assert name_key(composed) == name_key(decomposed)


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\u200b", "\u202e"])
def test_control_and_invisible_characters_are_refused(char: str) -> None:
    with pytest.raises(InvalidName, match="control"):
        validate_name(f"Acme{char}Corp")


def test_identifiers_are_bounded_so_namespaces_fit() -> None:
    validate_name("a" * 100)
    with pytest.raises(InvalidName, match="at most 100"):
        validate_name("a" * 101)
    with pytest.raises(InvalidName, match="too long"):
        validate_name("北京" * 50)
    longest = tenant_collection_for("a" * MAX_IDENTIFIER_LENGTH)
    assert len(f"{'d' * 63}.{longest}".encode()) < 255
