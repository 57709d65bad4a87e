"""The configuration reference and `.env.example` say what the settings class says."""

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_configuration_reference_is_what_the_settings_class_says() -> None:
    generator = _generator()

    assert generator.PAGE.read_text() == generator.reference(), (
        "docs/reference/configuration.md is out of date: run `python docs/generate.py`"
    )


def test_every_setting_has_a_description() -> None:
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]

    assert undescribed == []


def test_env_example_names_every_setting_and_nothing_else() -> None:
    example = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    settings = {name.upper() for name in Settings.model_fields}

    assert settings - named == set()
    assert named - settings == set()
