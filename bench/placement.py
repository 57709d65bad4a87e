"""`python -m bench.placement`: ten thousand organizations spread over several tenant databases.

The service runs inside this process on the embedded in-memory store (mongomock, `memory://`),
driven through httpx's ASGI transport, with `TENANT_DB_COUNT` tenant databases and the chosen
`TENANT_PLACEMENT` policy. Organizations are created one after another through
`POST /org/create` (BCRYPT_ROUNDS=4), and after every step (1,000 organizations by default)
the bench measures:

- the latency and rate of that step's creates;
- `GET /org/get` of randomly chosen existing organizations;
- renames of randomly chosen organizations (`POST /admin/login`, then `PUT /org/update`),
  checking that each tenant collection moved inside the database the registry records for it;
- how the registry spreads the organizations over the databases;
- the collections and indexes `app.registry.capacity.measure` counts, and how long that
  count takes;
- how long listing the collections of the fullest tenant database takes, the one per-database
  cost that spreading divides.

At the end every organization's recorded collection must exist in its recorded database and no
tenant database may hold a collection nobody owns. Two shorter runs follow (not with
`--quick`): a control with the same measurements in a single tenant database, and the spread
that hash placement gives.

Results: bench/results/placement.md, placement.json and placement_cost.png.
"""

import argparse
import asyncio
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import code_revision
from bench.placement_growth import grow
from bench.placement_model import GrowthRun, Options
from bench.placement_results import write_results
from bench.progress import speaker
from bench.report import MEMORY_STORE, RESULTS_DIR, RunInfo

say = speaker("placement")


def parse_args(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.placement",
        description="Grow the service to many organizations over several tenant databases "
        "on the in-memory store and report how costs grow.",
    )
    parser.add_argument("--organizations", type=int, help="organizations to create (10,000)")
    parser.add_argument("--databases", type=int, default=8, help="tenant databases (8)")
    parser.add_argument(
        "--policy", choices=("least-filled", "hash"), default="least-filled", help="placement"
    )
    parser.add_argument("--step", type=int, help="organizations between measurements (1,000)")
    parser.add_argument("--lookups", type=int, help="GET /org/get per step (200)")
    parser.add_argument("--renames", type=int, help="renames per step (20)")
    parser.add_argument(
        "--control-organizations",
        type=int,
        help="organizations in the single-database control run, 0 to skip (2,000)",
    )
    parser.add_argument(
        "--hash-organizations",
        type=int,
        help="organizations in the hash-placement comparison, 0 to skip (2,000)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="for the random choices")
    parser.add_argument(
        "--quick", action="store_true", help="1,000 organizations in steps of 250: a smoke run"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS_DIR, help="where results go (bench/results)"
    )
    args = parser.parse_args(argv)
    quick: bool = args.quick

    def pick(value: int | None, full: int, smoke: int) -> int:
        return value if value is not None else (smoke if quick else full)

    options = Options(
        organizations=pick(args.organizations, 10_000, 1_000),
        databases=args.databases,
        policy="hash" if args.policy == "hash" else "least-filled",
        step=pick(args.step, 1_000, 250),
        lookups=pick(args.lookups, 200, 100),
        renames=pick(args.renames, 20, 10),
        control_organizations=pick(args.control_organizations, 2_000, 500),
        control_databases=1,
        hash_organizations=pick(args.hash_organizations, 2_000, 0),
        hash_databases=args.databases,
        seed=args.seed,
        quick=quick,
        out=args.out,
    )
    if options.organizations < 1 or options.step < 1 or options.databases < 1:
        parser.error("--organizations, --step and --databases must be at least 1")
    if min(options.lookups, options.renames) < 0:
        parser.error("--lookups and --renames must not be negative")
    if min(options.control_organizations, options.hash_organizations) < 0:
        parser.error("--control-organizations and --hash-organizations must not be negative")
    return options


async def run_all(options: Options) -> list[GrowthRun]:
    return [await grow(plan) for plan in options.plans()]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    options = parse_args(argv)
    command = " ".join(["python -m bench.placement", *map(shlex.quote, argv)])
    started = datetime.now(UTC)
    code_at_start = code_revision()
    runs = asyncio.run(run_all(options))
    info = RunInfo(
        command=command,
        store=MEMORY_STORE,
        started=started,
        finished=datetime.now(UTC),
        quick=options.quick,
        code_at_start=code_at_start,
        code_at_end=code_revision(),
    )
    write_results(info, options, runs)
    ok = not any(run.problems for run in runs)
    say(
        f"results in {options.out} ({info.duration_seconds / 60:.1f} min){'' if ok else ', FAILED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
