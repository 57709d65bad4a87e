"""What the placement bench plans, measures and hands to its report: runs, steps, final checks."""

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from bench.latency import Latency

Policy = Literal["least-filled", "hash"]
# The latencies reported per step: what the report calls them, and the Step field holding them.
SERIES = (("create", "create"), ("get", "lookup"), ("rename", "rename"))


@dataclass
class Step:
    # The step's creates took the registry from `organizations_before` to `organizations`; the
    # other figures are measured at `organizations`.
    organizations_before: int
    organizations: int
    seconds: float
    create: Latency
    creates_per_second: float
    lookup: Latency
    login: Latency
    rename: Latency
    errors: dict[str, int]
    per_database: dict[str, int]
    cluster_namespaces: int
    largest_database_namespaces: int
    capacity_warnings: list[str]
    measure_seconds: float
    fullest_database: str
    listing_ms: float

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def spread(self) -> tuple[int, int]:
        counts = list(self.per_database.values())
        return (min(counts), max(counts)) if counts else (0, 0)


@dataclass
class FinalCheck:
    """Registry against the tenant databases, after the last step."""

    organizations_expected: int
    registry_entries: int
    not_active: dict[str, int]
    missing: list[str]
    orphans: list[str]
    duplicates: list[str]
    outside_pool: dict[str, int]
    databases_listed: list[str]
    renames_checked: int
    renames_failed: int

    @property
    def problems(self) -> list[str]:
        found = []
        if self.registry_entries != self.organizations_expected:
            found.append(
                f"the registry holds {self.registry_entries:,} organizations, "
                f"{self.organizations_expected:,} were created"
            )
        if self.not_active:
            found.append(f"organizations not active: {self.not_active}")
        for namespaces, what in (
            (self.missing, "recorded tenant collections are missing"),
            (self.orphans, "tenant collections belong to no organization"),
        ):
            if namespaces:
                found.append(f"{len(namespaces):,} {what} (first: {', '.join(namespaces[:5])})")
        if self.duplicates:
            found.append(f"namespaces recorded twice: {', '.join(self.duplicates[:5])}")
        if self.outside_pool:
            found.append(f"organizations placed outside the pool: {self.outside_pool}")
        if self.renames_failed:
            found.append(
                f"{self.renames_failed} of {self.renames_checked} renames failed or left the "
                "collection somewhere else than recorded"
            )
        return found


@dataclass(frozen=True)
class GrowthPlan:
    key: str
    title: str
    organizations: int
    databases: int
    policy: Policy
    step: int
    lookups: int
    renames: int
    seed: int


@dataclass
class GrowthRun:
    plan: GrowthPlan
    steps: list[Step] = field(default_factory=list)
    final: FinalCheck | None = None
    failure: str = ""
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        found = [f"run aborted: {self.failure}"] if self.failure else []
        errors = sum(step.error_count for step in self.steps)
        if errors:
            found.append(f"{errors} requests failed or answered wrongly during the steps")
        if self.final is not None:
            found += self.final.problems
        elif not self.failure:
            found.append("the final check did not run")
        return found


@dataclass(frozen=True)
class Options:
    """The command line: the main run, and the control and hash runs (0 organizations: none)."""

    organizations: int
    databases: int
    policy: Policy
    step: int
    lookups: int
    renames: int
    control_organizations: int
    control_databases: int
    hash_organizations: int
    hash_databases: int
    seed: int
    quick: bool
    out: Path

    def plans(self) -> list[GrowthPlan]:
        main = GrowthPlan(
            key="main",
            title="Growth",
            organizations=self.organizations,
            databases=self.databases,
            policy=self.policy,
            step=self.step,
            lookups=self.lookups,
            renames=self.renames,
            seed=self.seed,
        )
        plans = [main]
        if self.control_organizations:
            plans.append(
                replace(
                    main,
                    key="control",
                    title="Control",
                    organizations=self.control_organizations,
                    databases=self.control_databases,
                )
            )
        if self.hash_organizations:
            # Placement only: one step, no lookups or renames.
            plans.append(
                replace(
                    main,
                    key="hash",
                    title="Hash placement",
                    organizations=self.hash_organizations,
                    databases=self.hash_databases,
                    policy="hash",
                    step=self.hash_organizations,
                    lookups=0,
                    renames=0,
                )
            )
        return plans
