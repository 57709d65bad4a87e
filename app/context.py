"""What the lifespan builds once and every request shares, and the dependency that hands it out."""

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from app.auth.passwords import PasswordHasher
from app.auth.throttle import ThrottlePolicy
from app.auth.tokens import TokenCodec
from app.config import Settings
from app.db.store import Store
from app.invitations.delivery import EmailSender
from app.observability.metrics import Metrics
from app.organizations.capacity import CapacityMonitor
from app.organizations.lifecycle import Checkpoint, no_checkpoint
from app.organizations.placement import TenantPlacement


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    store: Store
    hasher: PasswordHasher
    tokens: TokenCodec
    throttle_policy: ThrottlePolicy
    metrics: Metrics
    email_sender: EmailSender
    placement: TenantPlacement
    capacity: CapacityMonitor
    checkpoint: Checkpoint = no_checkpoint


def get_context(request: Request) -> AppContext:
    return cast(AppContext, request.state.context)


ContextDep = Annotated[AppContext, Depends(get_context)]
