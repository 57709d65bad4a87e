"""placement.md: the placement bench's results for people, tables and findings."""

import math
import statistics

from bench.model import EN_DASH
from bench.placement_fit import fits
from bench.placement_model import GrowthRun, Options, Step
from bench.report import RunInfo, header_lines

CHART = "placement_cost.png"
TITLE = "Tenantry placement benchmark: organizations over several tenant databases"


def _ms(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}" if math.isfinite(value) else "n/a"


def step_table(steps: list[Step]) -> list[str]:
    headers = [
        "organizations",
        "create p50 ms",
        "create p95 ms",
        "creates/s",
        "get p50 ms",
        "get p95 ms",
        "rename p50 ms",
        "rename p95 ms",
        "orgs per database (min" + EN_DASH + "max)",
        "collections+indexes (cluster)",
        "measure() s",
        "list fullest tenant db ms",
        "errors",
    ]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---:|" * len(headers)]
    for step in steps:
        low, high = step.spread
        cells = [
            f"{step.organizations:,}",
            _ms(step.create.p50_ms),
            _ms(step.create.p95_ms),
            _ms(step.creates_per_second),
            _ms(step.lookup.p50_ms),
            _ms(step.lookup.p95_ms),
            _ms(step.rename.p50_ms),
            _ms(step.rename.p95_ms),
            f"{low:,}{EN_DASH}{high:,}",
            f"{step.cluster_namespaces:,}",
            _ms(step.measure_seconds, 2),
            _ms(step.listing_ms, 2),
            str(step.error_count) if step.error_count else "0",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def comparison_table(main: GrowthRun, control: GrowthRun) -> list[str]:
    headers = [
        "organizations",
        "databases",
        "create p50 ms",
        "get p50 ms",
        "rename p50 ms",
        "measure() s",
        "list fullest tenant db ms",
        "tenant collections in fullest db",
    ]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---:|" * len(headers)]
    by_count = {step.organizations: step for step in main.steps}
    for step in control.steps:
        for run, row in ((control, step), (main, by_count.get(step.organizations))):
            if row is None:
                continue
            cells = [
                f"{row.organizations:,}",
                str(run.plan.databases),
                _ms(row.create.p50_ms),
                _ms(row.lookup.p50_ms),
                _ms(row.rename.p50_ms),
                _ms(row.measure_seconds, 2),
                _ms(row.listing_ms, 2),
                f"{row.per_database.get(row.fullest_database, 0):,}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def spread_line(per_database: dict[str, int]) -> str:
    counts = list(per_database.values())
    if not counts:
        return "no databases"
    mean = statistics.fmean(counts)
    deviation = statistics.pstdev(counts)
    return (
        f"min {min(counts):,}, max {max(counts):,}, standard deviation {deviation:.1f} "
        f"({deviation / mean:.1%} of the mean {mean:,.1f})"
    )


def _cpu_note(cpu: dict[str, float]) -> str:
    other = cpu.get("other_processes_share", math.nan)
    if not math.isfinite(other):
        return ""
    return (
        f"other processes used {other:.0%} of the machine's CPU capacity while it ran "
        f"(the bench and the service: {cpu['bench_and_server_share']:.0%} of both cores)"
    )


def render_markdown(info: RunInfo, options: Options, runs: list[GrowthRun]) -> str:
    by_key = {run.plan.key: run for run in runs}
    main = by_key["main"]
    problems = [f"{run.plan.title}: {problem}" for run in runs for problem in run.problems]
    lines = header_lines(TITLE, info)
    if problems:
        lines += ["**FAILED CHECKS:**", ""] + [f"- **{problem}**" for problem in problems]
    else:
        final = main.final
        assert final is not None  # noqa: S101 - no problems means the final check ran
        lines.append(
            f"**All checks passed.** {final.registry_entries:,} organizations over "
            f"{main.plan.databases} tenant databases ({main.plan.policy} placement); every "
            "recorded tenant collection exists in its recorded database, no tenant database "
            f"holds a collection without an organization, and {final.renames_checked} renames "
            "each moved the collection inside its own database."
        )
    lines += [
        "",
        "The service runs in the bench process on the in-memory store, driven through httpx's "
        "ASGI transport (no network), with BCRYPT_ROUNDS=4, recovery sweeps off and the "
        "capacity count taken at start-up only. Organizations are created one at a time "
        "through `POST /org/create`; after each step the bench times "
        f"{options.lookups} `GET /org/get` of random existing organizations and "
        f"{options.renames} renames of random organizations (`POST /admin/login`, then the "
        "timed `PUT /org/update`), reads the spread from the registry, runs "
        "`app.registry.capacity.measure()` and times listing the fullest tenant "
        "database's collections (median of 5). In each row the create columns cover the "
        "creates that brought the registry from the row above to that row's count; the other "
        "columns are measured at that count.",
        "",
        f"## Growth: {main.plan.organizations:,} organizations over {main.plan.databases} "
        f"databases ({main.plan.policy})",
        "",
        *step_table(main.steps),
        "",
    ]
    growth = fits(main.steps)
    if growth:
        lines += ["### How cost grows", ""]
        lines += [f"- {found.describe()}" for found in growth.values()]
        if main.steps:
            total_creates = sum(step.create.mean_ms * step.create.count for step in main.steps)
            lines.append(
                f"- Creating all {main.steps[-1].organizations:,} organizations took "
                f"{total_creates / 60_000:.1f} min of request time; the whole run "
                f"{main.seconds / 60:.1f} min."
            )
        lines.append("")
    if main.steps:
        last = main.steps[-1]
        lines += [
            f"Spread at {last.organizations:,}: {spread_line(last.per_database)}. Per "
            "database: "
            + ", ".join(f"`{name}` {count:,}" for name, count in last.per_database.items())
            + ".",
            "",
            f"Capacity at {last.organizations:,}: {last.cluster_namespaces:,} collections+"
            f"indexes in the cluster, at most {last.largest_database_namespaces:,} in one "
            "tenant database; "
            + (
                "warnings: " + "; ".join(last.capacity_warnings)
                if last.capacity_warnings
                else "no capacity warnings at the default limits"
            )
            + ".",
            "",
        ]
    control = by_key.get("control")
    if control is not None:
        lines += [
            f"## Control: the same in {control.plan.databases} database",
            "",
            f"{control.plan.organizations:,} organizations created the same way with "
            f"TENANT_DB_COUNT={control.plan.databases}, beside the main run's figures at the "
            "same counts.",
            "",
            *comparison_table(main, control),
            "",
        ]
        if control.problems:
            lines += [f"- **{problem}**" for problem in control.problems] + [""]
    hashed = by_key.get("hash")
    if hashed is not None:
        lines += [f"## Hash placement: {hashed.plan.organizations:,} organizations", ""]
        if hashed.steps:
            last = hashed.steps[-1]
            least = next(
                (step for step in main.steps if step.organizations == last.organizations), None
            )
            expected = math.sqrt(
                last.organizations * (1 / hashed.plan.databases) * (1 - 1 / hashed.plan.databases)
            )
            lines.append(
                f"- hash over {hashed.plan.databases} databases: {spread_line(last.per_database)}"
                f"; a uniform random choice would deviate by about {expected:.1f}."
            )
            if least is not None:
                lines.append(
                    f"- least-filled at the same count (main run): "
                    f"{spread_line(least.per_database)}."
                )
            lines.append(
                f"- create p50 with hash placement: {_ms(last.create.p50_ms)} ms over the "
                f"{last.create.count:,} creates."
            )
        lines += [f"- **{problem}**" for problem in hashed.problems] + [""]
    lines += ["## Notes", ""] + [f"- {note}" for note in notes(options, runs)] + [""]
    if (options.out / CHART).exists():
        lines += [f"![cost against organizations]({CHART})", ""]
    return "\n".join(lines)


def notes(options: Options, runs: list[GrowthRun]) -> list[str]:
    by_key = {run.plan.key: run for run in runs}
    main = by_key["main"]
    found = [
        "**These are in-memory store costs, not MongoDB costs.** mongomock answers every "
        "query, including lookups by `_id` and unique-index checks on insert, by scanning the "
        "whole collection in Python. The registry collections in the master database "
        "(organizations, accounts, memberships, workspaces, identifier claims) hold one or "
        "more documents per organization, so each create, get and rename does work "
        "proportional to the number of organizations, and creating N organizations costs "
        "O(N\u00b2) in total. On MongoDB those queries use the indexes the service declares.",
        "mongomock also lists a database's collections by walking all of them, so "
        "`list_collection_names` (used by create, rename and the capacity count) costs "
        "O(collections in that database): the `list fullest tenant db ms` column. Spreading "
        "over N databases divides that per-database cost by N; it does not divide the "
        "registry scans, which live in the master database.",
    ]
    control = by_key.get("control")
    if control is not None and control.steps:
        common = {step.organizations: step for step in main.steps}
        shared = [step for step in control.steps if step.organizations in common]
        if shared:
            one, many = shared[-1], common[shared[-1].organizations]
            found.append(
                f"At {one.organizations:,} organizations, one database against "
                f"{main.plan.databases}: listing the fullest tenant database "
                f"{_ms(one.listing_ms, 2)} ms against {_ms(many.listing_ms, 2)} ms; create p50 "
                f"{_ms(one.create.p50_ms)} ms against {_ms(many.create.p50_ms)} ms, rename p50 "
                f"{_ms(one.rename.p50_ms)} ms against {_ms(many.rename.p50_ms)} ms. Even in one "
                f"database one listing is {one.listing_ms / one.create.p50_ms:.1%} of a create's "
                "p50: on this store the registry scans dominate."
            )
    found.append(
        "`measure()` counts every collection's indexes one by one on the in-memory store (it "
        "has no `dbStats`), so its time grows with the total number of tenant collections, "
        "however they are spread."
    )
    if main.steps and main.plan.policy == "least-filled":
        low, high = main.steps[-1].spread
        found.append(
            "Least-filled placement with one service instance creating sequentially: the "
            f"databases end {high - low} organization(s) apart; renames stay in their database "
            "and do not change the counts."
        )
    found.append(
        f"Creates are sequential (one request at a time) and timed client-side; creates/s is "
        f"that step's {options.step:,} creates over their wall time. p95 of "
        f"{options.renames} renames is close to their maximum. Every create uses a new email, "
        "so it also inserts the owner's account."
    )
    cpu = _cpu_note(main.cpu)
    if cpu:
        found.append(f"Main run: {cpu}.")
    return found
