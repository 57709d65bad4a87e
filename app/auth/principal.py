"""The authenticated caller of a request."""

from dataclasses import dataclass
from datetime import datetime

from bson import ObjectId

from app.auth.models import Role


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: ObjectId
    organization_id: ObjectId
    email: str
    role: Role
    token_id: str
    token_expires_at: datetime
