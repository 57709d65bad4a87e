"""The documentation's walk-throughs run, in order, exactly as written, against a live service.

Every `bash` block that talks to `$API` is a step of one session: the blocks are joined in the
order a reader meets them and run by bash with `set -euo pipefail` against a real uvicorn on a
loopback port, with `curl` failing on any answer of 400 or more. A line `NAME=...  # comment`
stands for a value the reader copies from somewhere else (the invitation link in the email);
the test supplies it, and fails if it cannot.
"""

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.api import state
from app.config import ExplicitSettings
from app.factory import create_app
from tests.live import serving
from tests.outbox import Outbox

ROOT = Path(__file__).resolve().parents[2]
# Where the walk-throughs are, in reading order (the site's guide repeats the README's first).
PAGES = ["README.md", "docs/guide/teams.md", "docs/guide/workspaces.md", "docs/guide/documents.md"]
_BLOCK = re.compile(r"^```(?:bash|sh|shell)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_PLACEHOLDER = re.compile(r"^(?P<name>[A-Z][A-Z0-9_]*)=\.\.\.(?:\s+#.*)?$", re.MULTILINE)
_DOCUMENTED_API = "API=http://127.0.0.1:8000"
# Run before the blocks: stop at the first failure, and make curl fail on an error answer
# (printing its body) the way a reader would notice one.
_PRELUDE = """\
set -euo pipefail
curl() { command curl --fail-with-body --show-error "$@"; }
"""


def walkthrough_blocks(pages: list[str] = PAGES) -> list[str]:
    blocks = []
    for page in pages:
        for block in _BLOCK.findall((ROOT / page).read_text()):
            if "$API" in block:
                blocks.append(block)
    return blocks


def test_the_sites_walkthrough_is_the_readmes() -> None:
    assert walkthrough_blocks(["docs/guide/walkthrough.md"]) == walkthrough_blocks(["README.md"])


class CopyingOutbox(Outbox):
    """Keeps the latest invitation token where the walk-through's placeholder reads it."""

    def __init__(self, values: Path) -> None:
        super().__init__()
        self._values = values

    async def send(self, to: str, subject: str, text: str, html: str) -> None:
        await super().send(to, subject, text, html)
        (self._values / "INVITE").write_text(self.last_token_for(to))


def test_there_are_walkthroughs_and_they_start_where_the_quick_start_listens() -> None:
    blocks = walkthrough_blocks()

    assert len(blocks) >= 3
    assert blocks[0].startswith(_DOCUMENTED_API)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_walkthroughs_run_in_order_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = tmp_path / "values"
    values.mkdir()
    monkeypatch.setattr(state, "build_sender", lambda _: CopyingOutbox(values))
    settings = ExplicitSettings(
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        bcrypt_rounds=4,
        recovery_interval_seconds=0,
        capacity_refresh_seconds=0,
    )
    script = "\n".join(walkthrough_blocks())
    script = _PLACEHOLDER.sub(lambda m: f'{m["name"]}=$(cat "$VALUES/{m["name"]}")', script)

    with serving(create_app(settings)) as (url, _):
        session = _PRELUDE + script.replace(_DOCUMENTED_API, f"API={url}")
        ran = subprocess.run(  # noqa: S603 - bash from PATH runs the documentation's own commands
            ["bash", "-c", session],  # noqa: S607
            env={**os.environ, "VALUES": str(values)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    assert ran.returncode == 0, f"{ran.stderr[-3000:]}\n--- output ---\n{ran.stdout[-3000:]}"
