"""The stock asyncio event loop, kept in debug mode when PYTHONASYNCIODEBUG asks for it.

On Python 3.11, uvicorn 0.54 starts its loop through `asyncio.Runner(debug=False)`, which
turns debug mode back off right after the loop has honoured PYTHONASYNCIODEBUG (Python 3.12's
`asyncio.run` passes None and leaves it alone). So `--loop asyncio` with PYTHONASYNCIODEBUG=1
reports no slow callbacks at all, however slow. Served with
`--loop bench.asyncio_debug:DebugSelectorEventLoop`, the service gets the same loop with the
variable respected.
"""

import asyncio
import os


def _requested() -> bool:
    return bool(os.environ.get("PYTHONASYNCIODEBUG"))


class DebugSelectorEventLoop(asyncio.SelectorEventLoop):
    def set_debug(self, enabled: bool) -> None:
        super().set_debug(enabled or _requested())


LOOP = f"{__name__}:{DebugSelectorEventLoop.__name__}"
