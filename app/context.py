"""What the lifespan builds once and every request shares, and the dependency that hands it out."""

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from app.auth.passwords import PasswordHasher
from app.auth.tokens import TokenCodec
from app.config import Settings
from app.db.store import Store


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    store: Store
    hasher: PasswordHasher
    tokens: TokenCodec


def get_context(request: Request) -> AppContext:
    return cast(AppContext, request.state.context)


ContextDep = Annotated[AppContext, Depends(get_context)]
