"""How commands reach MongoDB, and what they say when they cannot."""

import gc
import secrets
import socket
from dataclasses import replace

import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ServerSelectionTimeoutError
from typer.testing import CliRunner

from app.cli.main import app
from app.cli.runtime import CliConfig, server_hosts
from app.config import ExplicitSettings, Settings
from app.db.memory import open_memory_store
from app.db.store import Client, Document, Store

URI = "mongodb://operator:hunter2-secret@db1.example:27017,db2.example:27018/tenantry?tls=true"


def server_settings(uri: str) -> Settings:
    return ExplicitSettings(
        mongo_uri=uri, secret_key=SecretStr(secrets.token_urlsafe(48)), mongo_timeout_ms=100
    )


def unreachable(_: Settings) -> Store:
    raise ServerSelectionTimeoutError("db1.example:27017: [Errno -2] Name or service not known")


@pytest.mark.parametrize("command", [["verify"], ["orgs", "list"], ["stats"]])
def test_unreachable_server_is_one_clear_line_and_exit_2(command: list[str]) -> None:
    config = CliConfig(settings=server_settings(URI), open_store=unreachable)
    result = CliRunner().invoke(app, command, obj=config)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: Cannot connect to MongoDB at db1.example:27017,db2.example:27018: check MONGO_URI\n"
    )
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output


# PyMongo's monitor, cancelled by close() while connecting, leaves its socket to the garbage
# collector; collected here, under this filter, rather than in whichever test runs next.
@pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning")
def test_the_first_command_of_a_real_client_failing_is_reported_the_same_way() -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = server_settings(f"mongodb://operator:hunter2-secret@127.0.0.1:{port}/")
    result = CliRunner().invoke(app, ["verify"], obj=CliConfig(settings=settings))
    assert result.exit_code == 2
    assert f"Cannot connect to MongoDB at 127.0.0.1:{port}: check MONGO_URI" in result.stderr
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output
    del result  # its exception's traceback keeps the client, and the socket, alive
    gc.collect()


def test_an_invalid_uri_or_configuration_exits_2() -> None:
    invalid = CliConfig(settings=server_settings("mongodb://[not-a-host"))
    result = CliRunner().invoke(app, ["verify"], obj=invalid)
    assert result.exit_code == 2
    assert "MONGO_URI is not a valid MongoDB connection string" in result.stderr

    # Settings come from the environment as the service reads them: production on a server
    # without a SECRET_KEY is refused for a command that changes something.
    environment = {
        "MONGO_URI": "mongodb://localhost:1",
        "SECRET_KEY": "",
        "ENVIRONMENT": "production",
    }
    result = CliRunner().invoke(app, ["repair", "--yes"], env=environment)
    assert result.exit_code == 2
    assert "Error: invalid configuration" in result.stderr
    assert "SECRET_KEY" in result.stderr


class SpyClient:
    def __init__(self, client: Client) -> None:
        self._client = client
        self.closed = False

    def get_database(self, name: str) -> AsyncDatabase[Document]:
        return self._client.get_database(name)

    async def list_database_names(self) -> list[str]:
        return await self._client.list_database_names()

    async def close(self) -> None:
        self.closed = True


def spied(settings: Settings) -> tuple[Store, SpyClient]:
    memory = open_memory_store(settings)
    spy = SpyClient(memory.client)
    return replace(memory, client=spy), spy


def test_a_store_handed_in_is_never_closed_one_opened_is(settings: Settings) -> None:
    borrowed, lender = spied(settings)
    result = CliRunner().invoke(app, ["verify"], obj=CliConfig(settings=settings, store=borrowed))
    assert result.exit_code == 0, result.output
    assert not lender.closed

    opened, owned = spied(settings)
    result = CliRunner().invoke(
        app, ["verify"], obj=CliConfig(settings=settings, open_store=lambda _: opened)
    )
    assert result.exit_code == 0, result.output
    assert owned.closed

    # A bare Store or opener is accepted as ctx.obj too.
    bare, bare_lender = spied(settings)
    assert CliRunner().invoke(app, ["verify"], obj=bare).exit_code == 0
    assert not bare_lender.closed


def test_the_in_memory_store_is_announced_as_useless(settings: Settings) -> None:
    result = CliRunner().invoke(app, ["orgs", "list"], obj=CliConfig(settings=settings))
    assert result.exit_code == 0, result.output
    assert "Warning: this is the in-memory store" in result.stderr
    assert "0 organization(s)" in result.stdout


@pytest.mark.parametrize(
    ("uri", "hosts"),
    [
        (URI, "db1.example:27017,db2.example:27018"),
        ("mongodb+srv://u:p@cluster0.example.net/?retryWrites=true", "cluster0.example.net"),
        ("mongodb://localhost", "localhost"),
        # An unescaped "@" or "/" in a password must not leak either.
        ("mongodb://u:p@ss/w@rd@host:1/db", "host:1"),
    ],
)
def test_host_list_never_shows_credentials(uri: str, hosts: str) -> None:
    assert server_hosts(uri) == hosts
