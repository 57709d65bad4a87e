"""The command line as programs use it: JSON reports, streams, global options, exit codes."""

import gc
import gzip
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from bson import Decimal128, ObjectId, json_util
from pymongo.errors import BulkWriteError
from typer.testing import CliRunner, Result

from app.cli.main import app, package_version
from app.cli.runtime import CliConfig
from app.config import Settings
from app.db.memory import open_memory_store
from app.db.store import Store
from tests.cli.conftest import Operator
from tests.support import NAME, created_org, tenants


def as_json(result: Result) -> Any:
    assert result.exit_code in {0, 1}, result.output
    return json.loads(result.stdout)


def seeded(operator: Operator, documents: int = 5) -> dict[str, Any]:
    organization = operator.run(created_org(operator.client))
    collection = tenants(operator.store)[organization["tenant_collection"]]
    operator.run(
        collection.insert_many(
            [{"_id": ObjectId(), "n": n, "price": Decimal128(f"{n}.5")} for n in range(documents)]
        )
    )
    return organization


def test_orgs_list_json(operator: Operator) -> None:
    organization = seeded(operator)
    report = as_json(operator.cli("orgs", "list", "--json"))
    assert report == {
        "organizations": [
            {
                "id": organization["id"],
                "name": NAME,
                "identifier": "tech-innovations-corp",
                "state": "active",
                "status": "active",
                "plan": "free",
                "tenant_database": "tenantry_tenants",
                "tenant_collection": "tenant_tech_innovations_corp",
                "members": 1,
            }
        ],
        "limit": 100,
        "truncated": False,
    }
    assert as_json(operator.cli("orgs", "list", "--json", "--limit", "1"))["truncated"] is True


def test_orgs_show_json(operator: Operator) -> None:
    organization = seeded(operator)
    report = as_json(operator.cli("orgs", "show", NAME, "--json"))
    assert set(report) == {"registry", "owners", "members", "tenant_collection"}
    assert report["registry"]["_id"] == organization["id"]
    assert report["registry"]["state"] == "active"
    assert report["owners"] == ["admin@techcorp.com"]
    assert report["members"] == 1
    tenant = report["tenant_collection"]
    assert tenant["name"] == "tenantry_tenants.tenant_tech_innovations_corp"
    assert tenant["exists"] is True
    assert tenant["documents"] == 5
    assert {"name": "_id_", "keys": "_id: 1", "options": ""} in tenant["indexes"]
    assert set(tenant) == {"name", "exists", "documents", "indexes", "storage_bytes"}


def test_stats_json(operator: Operator) -> None:
    seeded(operator)
    report = as_json(operator.cli("stats", "--json", "--top", "1"))
    assert set(report) == {
        "totals",
        "by_state",
        "by_status",
        "by_plan",
        "largest_by_documents",
        "largest_by_storage",
    }
    assert report["totals"]["organizations"] == 1
    assert report["by_state"]["active"] == 1
    assert report["largest_by_documents"] == [
        {
            "organization": NAME,
            "collection": "tenantry_tenants.tenant_tech_innovations_corp",
            "documents": 5,
            "storage_bytes": None,
        }
    ]
    assert report["largest_by_storage"] is None  # the in-memory store reports no sizes


def test_capacity_and_verify_json(operator: Operator) -> None:
    seeded(operator)
    capacity = as_json(operator.cli("capacity", "--json"))
    assert set(capacity) == {"limits", "databases", "cluster", "warnings", "measured_at"}
    assert capacity["limits"] == {"database": 10_000, "cluster": 100_000, "warn_ratio": 0.8}
    tenant = next(d for d in capacity["databases"] if d["name"] == "tenantry_tenants")
    assert tenant["role"] == "tenant"
    assert tenant["organizations"] == 1
    assert tenant["level"] == "ok"
    assert set(tenant) == {
        "name",
        "role",
        "organizations",
        "collections",
        "indexes",
        "total",
        "level",
    }
    assert capacity["cluster"]["level"] == "ok"
    assert capacity["warnings"] == []

    verified = operator.cli("verify", "--json")
    assert verified.exit_code == 0
    assert json.loads(verified.stdout) == {
        "clean": True,
        "checked": {"organizations": 1, "collections": 1, "claims": 1},
        "findings": [],
        "capacity_warnings": [],
    }


def test_verify_and_repair_json_with_problems_exit_1(operator: Operator) -> None:
    seeded(operator)
    operator.run(tenants(operator.store).create_collection("tenant_ghost"))

    verified = operator.cli("verify", "--json")
    assert verified.exit_code == 1
    report = json.loads(verified.stdout)
    assert report["clean"] is False
    [finding] = report["findings"]
    assert finding["problem"] == "orphan collection"
    assert "tenant_ghost" in finding["subject"]

    dry = operator.cli("repair", "--json")
    assert dry.exit_code == 1  # work for an operator
    plan = json.loads(dry.stdout)
    assert plan["applied"] is False
    assert plan["done"] == []
    assert [step["action"] for step in plan["plan"]] == ["drop empty collection"]
    assert plan["left"] == plan["plan"]

    repaired = operator.cli("repair", "--yes", "--json")
    assert repaired.exit_code == 0, repaired.output
    outcome = json.loads(repaired.stdout)
    assert outcome["applied"] is True
    assert len(outcome["done"]) == 1
    assert outcome["left"] == []

    nothing = operator.cli("repair", "--json")
    assert nothing.exit_code == 0
    assert json.loads(nothing.stdout) == {"applied": False, "plan": [], "done": [], "left": []}


def test_export_to_stdout_and_import_from_stdin(operator: Operator) -> None:
    organization = seeded(operator)
    exported = operator.cli("export", NAME, "-")
    assert exported.exit_code == 0, exported.output
    lines = exported.stdout.splitlines()
    assert len(lines) == 5
    assert json.loads(lines[0])["price"] == {"$numberDecimal": "0.5"}
    assert "Exported 5 document(s)" in exported.stderr
    assert "standard output" in exported.stderr
    assert not Path("-").exists()

    gzipped = operator.cli("export", NAME, "-", "--gzip")
    assert gzip.decompress(gzipped.stdout_bytes).decode().splitlines() == lines

    collection = tenants(operator.store)[organization["tenant_collection"]]
    operator.run(collection.delete_many({}))
    imported = operator.cli("import", NAME, "-", "--json", input=exported.stdout)
    assert json.loads(imported.stdout) == {
        "organization": NAME,
        "collection": "tenant_tech_innovations_corp",
        "documents": 5,
        "replaced": 0,
        "path": None,
        "compressed": False,
        "foreign_workspaces": [],
    }
    assert operator.run(collection.count_documents({})) == 5

    again = CliRunner().invoke(
        app, ["import", NAME, "-", "--replace"], obj=operator.config(), input=gzipped.stdout_bytes
    )
    assert again.exit_code == 0, again.output
    assert "Imported 5 document(s)" in again.stderr

    broken = operator.cli("import", NAME, "-", input='{"_id": \n')
    assert broken.exit_code == 1
    assert "standard input, line 1: not Extended JSON" in broken.stderr

    refused = operator.cli("export", NAME, "-", "--json")
    assert refused.exit_code == 2


def test_export_and_import_json_to_a_file(operator: Operator, tmp_path: Path) -> None:
    seeded(operator)
    path = tmp_path / "tenant.jsonl.gz"
    report = as_json(operator.cli("export", NAME, str(path), "--json"))
    assert report == {
        "organization": NAME,
        "collection": "tenant_tech_innovations_corp",
        "documents": 5,
        "replaced": 0,
        "path": str(path),
        "compressed": True,
        "foreign_workspaces": [],
    }
    replaced = as_json(operator.cli("import", NAME, str(path), "--replace", "--json"))
    assert replaced["replaced"] == 5
    assert replaced["compressed"] is True


def test_a_refused_import_names_the_cause(operator: Operator, tmp_path: Path) -> None:
    operator.run(created_org(operator.client))
    twice = ObjectId()
    path = tmp_path / "twice.jsonl"
    path.write_text(
        "".join(json_util.dumps({"_id": _id, "n": n}) + "\n" for n, _id in enumerate([twice] * 2))
    )
    result = operator.cli("import", NAME, str(path))
    assert result.exit_code == 1
    assert "stopped after 1 document(s)" in result.stderr
    assert "the server refused a document (line 2)" in result.stderr
    assert "duplicate key" in result.stderr.lower()


def test_a_refusal_from_the_server_is_quoted(
    operator: Operator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator.run(created_org(operator.client))
    path = tmp_path / "one.jsonl"
    path.write_text(json_util.dumps({"_id": ObjectId(), "price": Decimal128("1.5")}) + "\n")
    details = {
        "writeErrors": [{"index": 0, "code": 2, "errmsg": "Decimal128 is not JSON serializable"}],
        "nInserted": 0,
    }

    class Refusing:
        """The tenant collection, as a server that cannot store the document answers."""

        def __init__(self, collection: object) -> None:
            self._collection = collection

        def __getattr__(self, name: str) -> Any:
            return getattr(self._collection, name)

        async def insert_many(self, *_: object, **__: object) -> None:
            raise BulkWriteError(details)

    collection_of = Store.collection
    monkeypatch.setattr(
        Store, "collection", lambda store, namespace: Refusing(collection_of(store, namespace))
    )
    result = operator.cli("import", NAME, str(path))
    assert result.exit_code == 1
    assert "Decimal128 is not JSON serializable, code 2" in result.stderr
    assert "(line 1)" in result.stderr


def test_another_organizations_export_needs_force(operator: Operator, tmp_path: Path) -> None:
    other = operator.run(created_org(operator.client, "Globex", "owner@globex.example"))
    operator.run(created_org(operator.client))
    workspace = ObjectId(other["id"])  # Globex's default workspace
    path = tmp_path / "globex.jsonl"
    path.write_text(
        "".join(
            json_util.dumps({"_id": ObjectId(), "workspace_id": workspace, "n": n}) + "\n"
            for n in range(3)
        )
    )
    collection = tenants(operator.store)["tenant_tech_innovations_corp"]

    refused = operator.cli("import", NAME, str(path))
    assert refused.exit_code == 1
    assert "3 document(s) of the file belong to 1 workspace(s)" in refused.stderr
    assert "another organization's export" in refused.stderr
    assert "--force" in refused.stderr
    assert operator.run(collection.count_documents({})) == 0

    forced = operator.cli("import", NAME, str(path), "--force", "--json")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["foreign_workspaces"] == [str(workspace)]
    assert "Warning: imported another organization's export" in forced.stderr
    assert operator.run(collection.count_documents({})) == 3

    # Its own export goes back in without --force.
    own = tmp_path / "own.jsonl"
    assert operator.cli("export", "Globex", str(own)).exit_code == 0
    operator.run(tenants(operator.store)["tenant_globex"].delete_many({}))
    assert operator.cli("import", "Globex", str(own)).exit_code == 0


def test_quiet_silences_status_and_progress(operator: Operator, tmp_path: Path) -> None:
    seeded(operator)
    path = tmp_path / "out.jsonl"
    loud = operator.cli("export", NAME, str(path))
    assert "counting documents" in loud.stderr  # phases as plain lines without a terminal
    assert "Exported" in loud.stderr

    # Warnings stay (here: the in-memory store); status and progress go.
    only_warning = "Warning: this is the in-memory store"
    quiet = operator.cli("--quiet", "export", NAME, str(path))
    assert quiet.exit_code == 0
    assert quiet.stderr.startswith(only_warning)
    assert quiet.stderr.count("\n") == 1
    repair = operator.cli("-q", "repair")
    assert repair.stderr.startswith(only_warning)
    assert repair.stderr.count("\n") == 1

    # Errors still show.
    unknown = operator.cli("--quiet", "export", "Nobody", str(path))
    assert unknown.exit_code == 1
    assert "No organization has the name or id 'Nobody'" in unknown.stderr


# As in test_runtime: the real client's monitor socket, collected here under this filter.
@pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning")
def test_uri_overrides_mongo_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    environment = {"MONGO_URI": "mongodb://from-env.example:27017", "ENVIRONMENT": "production"}
    result = CliRunner().invoke(
        app,
        ["--uri", "mongodb://user:pw@127.0.0.1:1/?serverSelectionTimeoutMS=100", "verify"],
        env={**environment, "MONGO_TIMEOUT_MS": "100"},
    )
    assert result.exit_code == 2
    assert "Cannot connect to MongoDB at 127.0.0.1:1" in result.stderr
    assert "from-env" not in result.stderr
    assert "pw" not in result.stderr
    del result  # its exception's traceback keeps the client, and the socket, alive
    gc.collect()

    # Without MONGO_URI, production refuses, and says how to try the commands anyway.
    missing = CliRunner().invoke(app, ["orgs", "list"], env={"ENVIRONMENT": "production"})
    assert missing.exit_code == 2
    assert "MONGO_URI is not set" in missing.stderr
    assert "tenantry demo" in missing.stderr


def test_read_only_commands_run_without_a_secret_key(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_memory_store(settings)
    config = CliConfig(open_store=lambda _: store)
    environment = {"MONGO_URI": "mongodb://db.example:27017", "ENVIRONMENT": "production"}
    monkeypatch.delenv("SECRET_KEY", raising=False)

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args), obj=config, env=environment)

    for command in (
        ["orgs", "list"],
        ["stats"],
        ["capacity"],
        ["verify"],
        ["repair"],
        ["orgs", "rebalance"],
    ):
        result = run(*command)
        assert result.exit_code == 0, (command, result.output)
    assert run("orgs", "show", "Nobody").exit_code == 1  # reached the store

    for command in (["repair", "--yes"], ["orgs", "move", "X", "--to", "tenants_b"]):
        refused = run(*command)
        assert refused.exit_code == 2, command
        assert "SECRET_KEY" in refused.stderr


def test_tables_never_fold_ids_without_a_terminal(operator: Operator) -> None:
    name = "A Rather Long Organization Name That Would Never Fit Eighty Columns Of Text"
    organization = operator.run(created_org(operator.client, name, "owner@long.example"))
    result = CliRunner().invoke(
        app, ["orgs", "list"], obj=operator.config(), env={"COLUMNS": None, "LINES": None}
    )
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.stdout.splitlines() if organization["id"] in line]
    assert name in row
    assert organization["tenant_collection"] in row


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"tenantry {package_version()}\n"
    assert package_version() != "unknown"


def test_usage_errors_exit_2(operator: Operator) -> None:
    assert operator.cli("orgs", "list", "--status", "nonsense").exit_code == 2
    assert operator.cli("no-such-command").exit_code == 2
    missing = operator.cli("import", NAME, "/nonexistent/file.jsonl")
    assert missing.exit_code == 2
    assert "no such file" in missing.stderr


def test_accounts_json(operator: Operator) -> None:
    seeded(operator)
    password = secrets.token_urlsafe(12)
    created = as_json(
        operator.cli(
            "accounts", "create-owner", NAME, "ops@techcorp.com", "--password", password, "--json"
        )
    )
    assert created == {
        "email": "ops@techcorp.com",
        "organization": NAME,
        "account_created": True,
        "previous_role": None,
        "role": "owner",
    }
    reset = as_json(
        operator.cli(
            "accounts", "reset-password", "ops@techcorp.com", "--password", password, "--json"
        )
    )
    assert reset == {
        "email": "ops@techcorp.com",
        "password_changed": True,
        "earlier_tokens_refused": True,
    }


def test_demo_shows_the_commands_without_mongodb() -> None:
    result = CliRunner().invoke(app, ["demo"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "$ tenantry orgs list" in result.stderr
    assert "3 organization(s)" in result.stdout
    assert "Tech Innovations Corp" in result.stdout
    assert "Warning: this is the in-memory store" not in result.stderr

    report = CliRunner().invoke(app, ["--quiet", "demo", "--json"])
    assert report.exit_code == 0, report.output
    assert report.stderr == ""
