"""A Python client generated from the live OpenAPI document, the way the README tells users to
make one, must generate without a warning and carry the main flow end to end: sign up, log
in, invite, accept as a newcomer, then store and read a tenant document as that newcomer.

The client is generated once per module from `/openapi.json` with the generator pinned in
`requirements-client.txt`. Generated modules are found from the operation ids at run time (the
generator names each module after its operation id in snake_case), so renaming operations
does not break this test; the schema names it builds bodies from come from the functions'
own signatures.
"""

import asyncio
import importlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from openapi_python_client.strings import snake_case
from pydantic import SecretStr

from app import factory
from app.config import ExplicitSettings, Settings
from app.db.store import Store
from tests.conftest import borrowed
from tests.outbox import Outbox
from tests.support import EMAIL, NAME, PASSWORD

PACKAGE = "tenantry_client"
BASE_URL = "http://test"
INVITEE = "newcomer@techcorp.com"
INVITEE_PASSWORD = "Newcomer-Password-1"
OBJECT_ID = re.compile(r"[0-9a-f]{24}")
MAX_OPERATION_ID = 40


@dataclass(frozen=True, slots=True)
class Generated:
    spec: dict[str, Any]
    returncode: int
    output: str  # the generator's stdout and stderr
    root: Path  # the directory holding the generated package
    seconds: float


async def _openapi_document() -> dict[str, Any]:
    settings = ExplicitSettings(
        mongo_uri="memory://",
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        bcrypt_rounds=4,
        recovery_interval_seconds=0,
    )
    app = factory.create_app(settings)
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url=BASE_URL) as client,
    ):
        response = await client.get("/openapi.json")
    assert response.status_code == 200, response.text
    spec: dict[str, Any] = response.json()
    return spec


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The client generated from the running app's `/openapi.json`, as a user would."""
    spec = asyncio.run(_openapi_document())
    root = tmp_path_factory.mktemp("generated")
    spec_file = root / "spec.json"
    spec_file.write_text(json.dumps(spec, indent=2), encoding="utf-8")
    # The generator formats its output with ruff, which it looks up on PATH: the one installed
    # beside this interpreter, as in an activated virtualenv.
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
    started = time.perf_counter()
    run = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(spec_file),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    seconds = time.perf_counter() - started
    return Generated(spec, run.returncode, run.stdout + run.stderr, root, seconds)


@pytest.fixture(scope="module")
def package(generated: Generated) -> Iterator[ModuleType]:
    """The generated package, importable for the duration of the module."""
    assert generated.returncode == 0, generated.output
    sys.path.insert(0, str(generated.root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(generated.root))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture
def app(settings: Settings, store: Store, outbox: Outbox) -> FastAPI:
    """The app of `tests/conftest.py`, built after the sender is replaced by the outbox."""
    return factory.create_app(settings, store_opener=lambda _: borrowed(store))


@dataclass(frozen=True, slots=True)
class Operation:
    """One generated endpoint module, found by the operation id of a method and path."""

    operation_id: str
    module: ModuleType

    @property
    def call(self) -> Callable[..., Any]:
        call: Callable[..., Any] = self.module.asyncio_detailed
        return call

    def hints(self) -> dict[str, Any]:
        return typing.get_type_hints(self.call)

    def body(self, value: dict[str, Any]) -> Any:
        """`value` as the request body model this operation takes, whatever it is named."""
        return self.hints()["body"].from_dict(value)

    def takes_a_public_client(self, package: ModuleType) -> bool:
        return package.Client in typing.get_args(self.hints()["client"])


def operation(generated: Generated, method: str, path: str) -> Operation:
    operation_id: str = generated.spec["paths"][path][method]["operationId"]
    name = snake_case(operation_id)
    found = sorted((generated.root / PACKAGE / "api").glob(f"*/{name}.py"))
    assert len(found) == 1, f"{method.upper()} {path} ({operation_id}): modules {found}"
    return Operation(
        operation_id, importlib.import_module(f"{PACKAGE}.api.{found[0].parent.name}.{name}")
    )


def test_the_client_generates_without_a_warning(generated: Generated) -> None:
    assert generated.returncode == 0, generated.output
    assert "warning" not in generated.output.lower(), generated.output
    assert (generated.root / PACKAGE / "client.py").is_file()
    assert generated.seconds < 60, f"generation took {generated.seconds:.1f}s"


def test_operation_ids_are_short_and_unique(settings: Settings) -> None:
    spec = factory.create_app(settings).openapi()
    operation_ids = [
        operation["operationId"]
        for path in spec["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]

    too_long = [op for op in operation_ids if len(op) > MAX_OPERATION_ID]
    duplicates = sorted({op for op in operation_ids if operation_ids.count(op) > 1})
    assert not too_long, f"{len(too_long)} operation ids over {MAX_OPERATION_ID}: {too_long}"
    assert not duplicates


def server_fields_are_typed(document: Any) -> None:
    declared = {field.name for field in attrs.fields(type(document))}
    missing = {"id", "created_at", "updated_at", "version"} - declared
    assert not missing, f"{type(document).__name__} declares {sorted(declared)}, not {missing}"


async def test_the_main_flow_through_the_generated_client(
    generated: Generated, package: ModuleType, app: FastAPI, outbox: Outbox
) -> None:
    sign_up = operation(generated, "post", "/org/create")
    log_in = operation(generated, "post", "/admin/login")
    invite = operation(generated, "post", "/api/v1/organizations/{org_id}/invitations")
    accept = operation(generated, "post", "/api/v1/invitations/accept")
    store_document = operation(generated, "post", "/api/v1/organizations/{org_id}/documents")
    read_document = operation(
        generated, "get", "/api/v1/organizations/{org_id}/documents/{document_id}"
    )
    # Public operations take the unauthenticated client (their OpenAPI says no security).
    for public in (sign_up, log_in):
        assert public.takes_a_public_client(package), f"{public.operation_id}: {public.hints()}"
    # Accepting takes a token or none; the generator types any declared security as needing
    # AuthenticatedClient, but the call works as well with the public one.
    assert {} in generated.spec["paths"]["/api/v1/invitations/accept"]["post"]["security"]

    async with LifespanManager(app) as manager:

        def httpx_args() -> dict[str, Any]:
            return {"transport": ASGITransport(app=manager.app)}

        def signed_in(token: str) -> Any:
            return package.AuthenticatedClient(
                base_url=BASE_URL, token=token, httpx_args=httpx_args()
            )

        async with package.Client(base_url=BASE_URL, httpx_args=httpx_args()) as public_client:
            created = await sign_up.call(
                client=public_client,
                body=sign_up.body(
                    {"organization_name": NAME, "email": EMAIL, "password": PASSWORD}
                ),
            )
            assert created.status_code == HTTPStatus.CREATED, created.content
            org = created.parsed
            assert OBJECT_ID.fullmatch(org.id)
            assert org.organization_name == NAME
            assert org.admin_email == EMAIL

            logged_in = await log_in.call(
                client=public_client, body=log_in.body({"email": EMAIL, "password": PASSWORD})
            )
            assert logged_in.status_code == HTTPStatus.OK, logged_in.content
            assert logged_in.parsed.org_id == org.id

            async with signed_in(logged_in.parsed.access_token) as owner:
                invited = await invite.call(
                    org.id, client=owner, body=invite.body({"email": INVITEE, "role": "member"})
                )
            assert invited.status_code == HTTPStatus.CREATED, invited.content
            invitation = invited.parsed
            assert invitation.email == INVITEE
            assert invitation.role == "member"
            assert invitation.status == "pending"
            assert invitation.expires_at.tzinfo is not None, invitation.expires_at
            assert invitation.expires_at > datetime.now(UTC)

            accepted = await accept.call(
                client=public_client,
                body=accept.body(
                    {"token": outbox.last_token_for(INVITEE), "password": INVITEE_PASSWORD}
                ),
            )
        assert accepted.status_code == HTTPStatus.OK, accepted.content
        assert accepted.parsed.org_id == org.id
        assert accepted.parsed.role == "member"
        assert accepted.parsed.admin_id != logged_in.parsed.admin_id

        async with signed_in(accepted.parsed.access_token) as member:
            stored = await store_document.call(
                org.id,
                client=member,
                body=store_document.body({"title": "Q3 report", "pages": 12}),
            )
            assert stored.status_code == HTTPStatus.CREATED, stored.content
            document = stored.parsed
            server_fields_are_typed(document)
            assert OBJECT_ID.fullmatch(document.id)
            assert document.version == 1
            assert document.created_at.tzinfo is not None, document.created_at
            assert document["title"] == "Q3 report"

            read = await read_document.call(org.id, document.id, client=member)
    assert read.status_code == HTTPStatus.OK, read.content
    assert read.parsed.id == document.id
    assert read.parsed.version == 1
    assert read.parsed.created_at == document.created_at
    assert read.parsed["title"] == "Q3 report"
    assert read.parsed["pages"] == 12
    assert read.headers["etag"] == '"1"'
