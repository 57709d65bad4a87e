"""How the request-cost breakdown reads py-spy's stacks."""

from pathlib import Path

from bench.where_time_goes import REST, read_raw, stage_of

SERVER = "RequestResponseCycle.run_asgi (uvicorn/protocols/http/httptools_impl.py:422)"
MIDDLEWARE = "RequestContextMiddleware.__call__ (app/api/request_ids.py:29)"
DEPENDENCIES = "solve_dependencies (fastapi/dependencies/utils.py:671)"
CACHE_KEY = "_get_cache_key (fastapi/dependencies/models.py:87)"
CHECK = "SessionService.check (app/sessions/service.py:198)"
FIND = "AsyncCollection.aggregate (pymongo/asynchronous/collection.py:3027)"


def test_the_innermost_stage_on_the_stack_wins() -> None:
    assert stage_of([SERVER, MIDDLEWARE, DEPENDENCIES, CHECK, FIND]) == (
        "database commands and BSON (driver or in-memory store)"
    )
    assert stage_of([SERVER, MIDDLEWARE, DEPENDENCIES, CHECK]) == (
        "the token or key check, its own code"
    )


def test_framework_internals_count_for_the_step_that_called_them() -> None:
    assert stage_of([SERVER, MIDDLEWARE, DEPENDENCIES, CACHE_KEY]) == (
        "dependency solving (FastAPI)"
    )
    assert stage_of([SERVER, MIDDLEWARE]) == "the service's middleware"
    assert stage_of(["Runner.run (asyncio/runners.py:118)"]) == REST


def test_samples_are_counted_by_layer_stage_and_step(tmp_path: Path) -> None:
    raw = tmp_path / "samples.txt"
    raw.write_text(
        f"{SERVER};{MIDDLEWARE};{DEPENDENCIES};{CHECK};{FIND} 3\n"
        f"{SERVER};{MIDDLEWARE};{DEPENDENCIES};{CACHE_KEY} 1\n"
    )

    found = read_raw(raw)

    assert found.samples == 4
    assert found.layers == {
        "database driver (PyMongo, BSON)": 3,
        "framework (FastAPI, Starlette, pydantic)": 1,
    }
    assert found.stages["dependency solving (FastAPI)"] == 1
    assert found.also["the token check's read"] == 0
