import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from app.config import (
    IN_MEMORY_REFUSED,
    MEMORY_URI,
    ConfigurationError,
    ExplicitSettings,
    Settings,
    load_settings,
)
from app.db.connect import open_store
from app.plans import Plan

STRONG = "9f8e7d6c5b4a39281706f5e4d3c2b1a0-strong-key"
ROOT = Path(__file__).resolve().parents[1]


def test_defaults_run_in_memory_with_a_generated_key() -> None:
    settings = ExplicitSettings()

    assert settings.mongo_uri == MEMORY_URI
    assert settings.in_memory
    assert settings.secret_key_generated
    assert len(settings.signing_keys()[0]) >= 32
    assert settings.token_lifetime == 60
    assert settings.default_tenant_db == "tenantry_tenants"


def test_by_default_no_proxy_is_trusted_and_sign_ups_are_limited() -> None:
    settings = ExplicitSettings()

    assert settings.forwarded_allow_ips == ""
    assert settings.signup_per_address_per_hour == 10
    assert settings.signup_total_per_hour == 1000


def test_an_empty_mongo_uri_means_memory() -> None:
    assert ExplicitSettings(mongo_uri="  ").in_memory


@pytest.mark.parametrize("secret", ["", "short", "changeme", "x" * 64, "your-secret-key"])
def test_a_weak_secret_is_refused_in_production_on_a_server(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY") as caught:
        ExplicitSettings(mongo_uri="mongodb://db:27017", secret_key=SecretStr(secret))

    if secret:
        assert secret not in str(caught.value)


def test_a_weak_secret_is_replaced_in_development() -> None:
    settings = ExplicitSettings(
        mongo_uri="mongodb://db:27017",
        secret_key=SecretStr("changeme"),
        environment="development",
    )

    assert settings.secret_key_generated
    assert settings.signing_keys()[0] != "changeme"


def test_a_strong_secret_is_kept() -> None:
    settings = ExplicitSettings(mongo_uri="mongodb://db:27017", secret_key=SecretStr(STRONG))

    assert not settings.secret_key_generated
    assert settings.secret_key.get_secret_value() == STRONG


@pytest.mark.parametrize("name", ["bad.name", "with space", "a$b", "x" * 64, "a/b"])
def test_invalid_database_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        ExplicitSettings(primary_db=name)


def test_the_tenant_database_must_differ_from_the_master() -> None:
    with pytest.raises(ValidationError, match="differ"):
        ExplicitSettings(primary_db="org", tenant_db="org")


def test_algorithm_none_cannot_be_configured() -> None:
    with pytest.raises(ValidationError):
        ExplicitSettings.model_validate({"algorithm": "none"})


def test_the_contract_names_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MONGO_URI", "mongodb://db:27017")
    monkeypatch.setenv("PRIMARY_DB", "org_master")
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("ALGORITHM", "HS512")
    monkeypatch.setenv("TOKEN_LIFETIME", "15")
    monkeypatch.setenv("LOG_LEVEL", "debug")

    settings = Settings(_env_file=None)

    assert settings.mongo_uri == "mongodb://db:27017"
    assert settings.primary_db == "org_master"
    assert settings.default_tenant_db == "org_master_tenants"
    assert settings.algorithm == "HS512"
    assert settings.token_lifetime == 15
    assert settings.log_level == "DEBUG"


def test_lists_and_maps_are_read_from_their_comma_separated_environment_forms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    retired = "0a1b2c3d4e5f60718293a4b5c6d7e8f9-retired-key"
    monkeypatch.setenv("TENANT_DATABASES", " east , west,north ")
    monkeypatch.setenv("CORS_ORIGINS", "https://app.example.com, https://admin.example.com")
    monkeypatch.setenv("PREVIOUS_SECRET_KEYS", f" {retired} ,")
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("DEFAULT_PLAN", "pro")
    monkeypatch.setenv("PLAN_MEMBER_LIMITS", "free=3,pro=0")

    settings = Settings(_env_file=None)

    assert settings.tenant_pool == ("east", "west", "north")
    assert settings.cors_origins == ["https://app.example.com", "https://admin.example.com"]
    assert settings.signing_keys() == [STRONG, retired]
    assert settings.plans.default is Plan.PRO
    assert settings.plans.member_limit(Plan.FREE) == 3
    assert settings.plans.member_limit(Plan.PRO) is None
    assert settings.plans.member_limit(Plan.ENTERPRISE) is None


@pytest.mark.parametrize("limits", ["free", "free=many", "free=-1"])
def test_unreadable_member_limits_are_refused_with_the_expected_form(limits: str) -> None:
    with pytest.raises(ValidationError, match=r"free=5,pro=50,enterprise=0"):
        ExplicitSettings.model_validate({"plan_member_limits": limits})


def test_derived_values_leave_the_given_settings_as_they_were() -> None:
    settings = ExplicitSettings(primary_db="acme", tenant_db_count=2, secret_key=SecretStr("weak"))

    assert (settings.tenant_db, settings.tenant_db_prefix) == ("", "")
    assert settings.default_tenant_db == "acme_tenants"
    assert settings.tenant_pool == ("acme_tenants_1", "acme_tenants_2")
    assert settings.secret_key.get_secret_value() == "weak"
    assert settings.signing_keys()[0] == settings.signing_keys()[0] != "weak"


def test_writes_default_to_majority_with_the_journal() -> None:
    settings = ExplicitSettings()

    assert (settings.write_concern_w, settings.mongo_journal) == ("majority", True)
    assert settings.mongo_write_timeout_ms == 10_000
    assert ExplicitSettings(mongo_write_concern=" 2 ").write_concern_w == 2
    assert ExplicitSettings(mongo_write_concern="MAJORITY").write_concern_w == "majority"


@pytest.mark.parametrize("value", ["0", "-1", "all", ""])
def test_an_unusable_write_concern_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="majority or a number"):
        ExplicitSettings(mongo_write_concern=value)


def test_the_client_is_opened_with_the_write_concern() -> None:
    settings = ExplicitSettings(
        mongo_uri="mongodb://127.0.0.1:1/?w=1", secret_key=SecretStr(STRONG)
    )
    store = open_store(settings)

    assert store.master.write_concern.document == {"w": "majority", "j": True, "wtimeout": 10_000}


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"primary_db": "admin"}, "PRIMARY_DB must not be 'admin'"),
        ({"primary_db": "Local"}, "PRIMARY_DB must not be 'Local'"),
        ({"tenant_db": "config"}, "TENANT_DB must not be 'config'"),
        ({"tenant_databases": "tenants_a,ADMIN"}, "must not be 'ADMIN'"),
        ({"primary_db": "Tenantry", "tenant_db": "tenantry"}, "not only in case"),
        ({"tenant_databases": "Tenantry,b"}, "must not include PRIMARY_DB"),
        ({"tenant_databases": "east,East"}, "'east' and 'East' differ only in case"),
        ({"tenant_db": "Shared", "tenant_databases": "shared,other"}, "differ only in case"),
    ],
)
def test_database_names_mongodb_would_refuse_stop_the_start(
    fields: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        ExplicitSettings(**fields)  # type: ignore[arg-type]


def test_production_refuses_to_start_without_a_mongodb_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG)

    with pytest.raises(ConfigurationError) as refused:
        load_settings()
    assert str(refused.value) == IN_MEMORY_REFUSED
    assert "MONGO_URI" in str(refused.value)

    monkeypatch.setenv("ENVIRONMENT", "development")
    assert load_settings().in_memory
    monkeypatch.setenv("ENVIRONMENT", "production")
    assert load_settings(mongo_uri="mongodb://db:27017").mongo_uri == "mongodb://db:27017"


def test_read_only_settings_need_no_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MONGO_URI", "mongodb://db:27017")
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)

    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        load_settings()
    assert load_settings(signing=False).mongo_uri == "mongodb://db:27017"


def test_the_key_can_come_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text(STRONG + "\n")

    settings = ExplicitSettings(mongo_uri="mongodb://db:27017", secret_key_file=key_file)
    assert settings.secret_key.get_secret_value() == STRONG
    assert not settings.secret_key_generated

    with pytest.raises(ValidationError, match="not both"):
        ExplicitSettings(
            mongo_uri="mongodb://db:27017", secret_key=SecretStr(STRONG), secret_key_file=key_file
        )
    with pytest.raises(ValidationError, match="cannot be read") as unreadable:
        ExplicitSettings(mongo_uri="mongodb://db:27017", secret_key_file=tmp_path / "missing")
    assert STRONG not in str(unreadable.value)
    # An empty SECRET_KEY_FILE in the environment (as .env.example leaves it) means none.
    assert ExplicitSettings(secret_key_file="").secret_key_file is None  # type: ignore[arg-type]


def test_the_app_starts_without_the_in_memory_store_packages(tmp_path: Path) -> None:
    """The production image does not install mongomock, mongomock-motor or motor."""
    program = (
        "import sys\n"
        "for name in ('mongomock', 'mongomock_motor', 'motor'):\n"
        "    sys.modules[name] = None  # any import of it fails\n"
        "from app.config import load_settings\n"
        "from app.factory import create_app\n"
        "app = create_app(load_settings())\n"
        "assert 'app.db.memory' not in sys.modules\n"
        "import main\n"
        "print('started', type(app).__name__)\n"
    )
    environment = {
        **{k: v for k, v in os.environ.items() if k in {"PATH", "SYSTEMROOT", "HOME"}},
        "MONGO_URI": "mongodb://127.0.0.1:1",
        "SECRET_KEY": STRONG,
        "ENVIRONMENT": "production",
        "PYTHONPATH": str(ROOT),
    }
    ran = subprocess.run(  # noqa: S603
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert "started FastAPI" in ran.stdout
