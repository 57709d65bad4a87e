from typing import Any

from app.registry.tenants import _creatable_keys


def test_plain_index_keys_are_kept() -> None:
    info: dict[str, Any] = {"key": [("a", 1), ("b", -1)], "v": 2}

    assert _creatable_keys(info) == [("a", 1), ("b", -1)]


def test_a_text_index_is_recreated_from_its_fields() -> None:
    info: dict[str, Any] = {
        "key": [("tenant", 1), ("_fts", "text"), ("_ftsx", 1)],
        "weights": {"title": 10, "body": 1},
        "default_language": "english",
        "textIndexVersion": 3,
    }

    assert _creatable_keys(info) == [("tenant", 1), ("title", "text"), ("body", "text")]
