"""Plans and the members each allows: the one place the rule's numbers live.

`PLAN_MEMBER_LIMITS` (`free=5,pro=50,enterprise=0`) is parsed once, with the settings; 0 means
no limit. Pending invitations take a seat like members do (see `app.invitations.seats`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Plan(StrEnum):
    FREE = "free"
    PRO = "pro"
    ENTERPRISE = "enterprise"


def parse_member_limits(text: str) -> dict[Plan, int]:
    """`free=5,pro=50` as a mapping; names that are no plan are ignored. Raises ValueError."""
    limits: dict[Plan, int] = {}
    for entry in text.split(","):
        if not entry.strip():
            continue
        name, separator, number = entry.partition("=")
        if not separator:
            raise ValueError(entry)
        count = int(number)
        if count < 0:
            raise ValueError(entry)
        if name.strip() in Plan.__members__.values():
            limits[Plan(name.strip())] = count
    return limits


@dataclass(frozen=True, slots=True)
class Plans:
    default: Plan
    member_limits: Mapping[Plan, int]

    def member_limit(self, plan: Plan) -> int | None:
        """Members (and pending invitations) the plan allows; None for no limit."""
        return self.member_limits.get(plan, 0) or None

    def of(self, stored: object) -> Plan:
        """The plan a registry entry's `plan` field stands for: absent or unknown values
        (typed in by hand) read as the default."""
        try:
            return Plan(stored) if isinstance(stored, str) and stored else self.default
        except ValueError:
            return self.default
