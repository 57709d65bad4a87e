import pytest
from pydantic import SecretStr, ValidationError

from app.config import MEMORY_URI, Settings
from tests.conftest import IsolatedSettings

STRONG = "9f8e7d6c5b4a39281706f5e4d3c2b1a0-strong-key"


def test_defaults_run_in_memory_with_a_generated_key() -> None:
    settings = IsolatedSettings()

    assert settings.mongo_uri == MEMORY_URI
    assert settings.in_memory
    assert settings.secret_key_generated
    assert len(settings.signing_keys()[0]) >= 32
    assert settings.token_lifetime == 60
    assert settings.default_tenant_db == "tenantry_tenants"


def test_an_empty_mongo_uri_means_memory() -> None:
    assert IsolatedSettings(mongo_uri="  ").in_memory


@pytest.mark.parametrize("secret", ["", "short", "changeme", "x" * 64, "your-secret-key"])
def test_a_weak_secret_is_refused_in_production_on_a_server(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY") as caught:
        IsolatedSettings(mongo_uri="mongodb://db:27017", secret_key=SecretStr(secret))

    if secret:
        assert secret not in str(caught.value)


def test_a_weak_secret_is_replaced_in_development() -> None:
    settings = IsolatedSettings(
        mongo_uri="mongodb://db:27017",
        secret_key=SecretStr("changeme"),
        environment="development",
    )

    assert settings.secret_key_generated
    assert settings.signing_keys()[0] != "changeme"


def test_a_strong_secret_is_kept() -> None:
    settings = IsolatedSettings(mongo_uri="mongodb://db:27017", secret_key=SecretStr(STRONG))

    assert not settings.secret_key_generated
    assert settings.secret_key.get_secret_value() == STRONG


@pytest.mark.parametrize("name", ["bad.name", "with space", "a$b", "x" * 64, "a/b"])
def test_invalid_database_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        IsolatedSettings(primary_db=name)


def test_the_tenant_database_must_differ_from_the_master() -> None:
    with pytest.raises(ValidationError, match="differ"):
        IsolatedSettings(primary_db="org", tenant_db="org")


def test_algorithm_none_cannot_be_configured() -> None:
    with pytest.raises(ValidationError):
        IsolatedSettings.model_validate({"algorithm": "none"})


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
