"""What the image and the Compose file promise, read from the files (no Docker here)."""

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def api() -> dict[str, Any]:
    service: dict[str, Any] = compose()["services"]["api"]
    return service


def graceful_shutdown_seconds() -> int:
    found = re.search(r"timeout_graceful_shutdown=(\d+)", (ROOT / "main.py").read_text())
    assert found, "main.py sets uvicorn's timeout_graceful_shutdown"
    return int(found.group(1))


def test_the_image_runs_as_a_numeric_user() -> None:
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, re.MULTILINE)
    assert users, "the image names its user"
    assert re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]), users[-1]


def test_the_healthcheck_probes_readiness_on_port() -> None:
    [check] = re.findall(r"^HEALTHCHECK .*?CMD (.+)$", DOCKERFILE, re.MULTILINE | re.DOTALL)
    assert "/ready" in check
    assert "PORT" in check
    assert ":8000/" not in check
    assert "healthcheck" not in api() or "/ready" in str(api()["healthcheck"])


def test_the_image_installs_only_the_service_requirements() -> None:
    installs = re.findall(r"pip install (.+)", DOCKERFILE)
    assert "-r requirements-service.txt" in installs
    assert all("requirements.txt" not in line for line in installs)
    lines = (ROOT / "requirements-service.txt").read_text().lower().splitlines()
    pinned = {line.split("==")[0] for line in lines if line and not line.startswith("#")}
    for unwanted in ("mongomock", "mongomock-motor", "motor", "pytest", "uvicorn[standard]"):
        assert unwanted not in pinned, unwanted


def test_compose_never_defaults_to_development() -> None:
    environment = api()["environment"]
    assert environment["ENVIRONMENT"] == "production"
    assert (
        "development"
        not in (ROOT / "docker-compose.yml").read_text().replace("# ", "").split("services:")[1]
    )
    # No throwaway key: the key comes from .env or from the file kept in a volume.
    assert environment["SECRET_KEY_FILE"].startswith("/data/")
    assert any(volume.endswith(":/data") for volume in api()["volumes"])
    assert "api-data" in compose()["volumes"]


def test_compose_waits_for_the_graceful_shutdown() -> None:
    grace = api()["stop_grace_period"]
    seconds = int(str(grace).removesuffix("s"))
    assert seconds > graceful_shutdown_seconds()


def test_compose_env_file_has_the_form_every_v2_release_reads() -> None:
    env_file = api()["env_file"]
    entries = env_file if isinstance(env_file, list) else [env_file]
    # The long form (path:, required:) needs Compose 2.24 or newer.
    assert all(isinstance(entry, str) for entry in entries)


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_the_entrypoint_creates_the_key_once_and_keeps_it(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"

    def start(**environment: str) -> subprocess.CompletedProcess[str]:
        # The entry point runs `python`: here, the interpreter running the tests.
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        env = {"PATH": path, **environment}
        return subprocess.run(  # noqa: S603
            ["sh", str(ENTRYPOINT), "sh", "-c", 'echo "${SECRET_KEY_FILE:-none}"'],  # noqa: S607
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )

    first = start(SECRET_KEY_FILE=str(key_file), SECRET_KEY="")
    assert "created a signing key" in first.stderr
    key = key_file.read_text().strip()
    assert len(key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.stdout.strip() == str(key_file)

    second = start(SECRET_KEY_FILE=str(key_file))
    assert second.stderr == ""
    assert key_file.read_text().strip() == key
    assert list(tmp_path.iterdir()) == [key_file]  # no partial file left

    # A SECRET_KEY given wins, and the file is not read (the settings refuse both).
    given = start(SECRET_KEY_FILE=str(key_file), SECRET_KEY="x" * 48)
    assert given.stdout.strip() == "none"
