"""Write the configuration reference (`docs/reference/configuration.md`) from the settings
class, so that the reference names every setting, with its default and what it accepts.

    python docs/generate.py            # rewrite the page
    python docs/generate.py --check    # exit 1 if the page is not what the class says
"""

import sys
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, MaxLen, MinLen
from pydantic import SecretStr
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402

PAGE = ROOT / "docs" / "reference" / "configuration.md"
HEADER = """\
# Configuration reference

Every setting, read from the environment or from a `.env` file in the working directory
(names are case-insensitive; the repository's `.env.example` is a commented starting point).
This page is generated from the settings class (`python docs/generate.py`); the test suite
fails when it falls behind.

| Variable | Default | Accepts | Meaning |
|---|---|---|---|
"""


def accepts(annotation: Any, field: FieldInfo) -> str:
    """What a value may be, in words."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return accepts(typing.get_args(annotation)[0], field)
    if origin is Literal:
        return " · ".join(f"`{value}`" for value in typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " · ".join(f"`{member.value}`" for member in annotation)
    if origin in (list, tuple) or annotation in (list, tuple):
        return "comma-separated list"
    if origin is dict:
        return "`key=value` pairs, comma-separated"
    if origin in (typing.Union, types.UnionType):
        kinds = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return " or ".join(accepts(arg, field) for arg in kinds)
    if annotation is Path:
        return "a file's path"
    if annotation is bool:
        return "`true` · `false`"
    if annotation is SecretStr:
        return "secret text"
    if annotation in (int, float):
        kind = "integer" if annotation is int else "number"
        low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
        above = next((m.gt for m in field.metadata if isinstance(m, Gt)), None)
        high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
        if low is not None and high is not None:
            return f"{kind}, {low} to {high}"
        if above is not None and high is not None:
            return f"{kind} above {above}, at most {high}"
        if low is not None:
            return f"{kind}, at least {low}"
        return kind
    if annotation is type(None):
        return "nothing"
    text = "text"
    shortest = next((m.min_length for m in field.metadata if isinstance(m, MinLen)), None)
    longest = next((m.max_length for m in field.metadata if isinstance(m, MaxLen)), None)
    if shortest:
        text += f", at least {shortest} characters"
    if longest:
        text += f", at most {longest} characters"
    return text


def shown_default(field: FieldInfo) -> str:
    value = field.default
    if field.default_factory is not None:
        made = field.default_factory()  # type: ignore[call-arg]
        if isinstance(made, dict) and made:
            pairs = ",".join(f"{getattr(k, 'value', k)}={v}" for k, v in made.items())
            return f"`{pairs}`"
        if made not in ([], {}, ()):
            return "computed (see meaning)"
        value = made
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, Enum):
        value = value.value
    if value in ("", None, [], {}):
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def reference() -> str:
    rows = []
    for name, field in Settings.model_fields.items():
        if not field.description:
            raise ValueError(f"the setting {name!r} has no description")
        meaning = " ".join(field.description.split()).replace("|", "\\|")
        rows.append(
            f"| `{name.upper()}` | {shown_default(field)} | "
            f"{accepts(field.annotation, field)} | {meaning} |"
        )
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    written = reference()
    if "--check" in sys.argv[1:]:
        sys.exit(0 if PAGE.exists() and PAGE.read_text() == written else 1)
    PAGE.write_text(written)
