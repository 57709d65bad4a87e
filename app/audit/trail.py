"""Recording and reading audit entries (master database, `audit_log`).

Entries carry time, actor, organization, action, target, client address and request id,
and a few non-secret details; never passwords, hashes, tokens or invitation links. A TTL
index on `at` keeps them for `AUDIT_RETENTION_DAYS`.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import OperationFailure

from app.access.principal import Principal
from app.db.keyset import Keyset, Kind, Slice, Window
from app.db.schema import AUDIT_LOG, ensure_declared
from app.db.store import Store
from app.kit.request_context import current_client_address, current_request_id

logger = logging.getLogger(__name__)
_INDEX_OPTIONS_CONFLICT = 85
NEWEST_FIRST = Keyset("audit_log", "at", Kind.DATETIME, descending=True)


class AuditAction(StrEnum):
    ORGANIZATION_CREATE = "organization.create"
    ORGANIZATION_RENAME = "organization.rename"
    ORGANIZATION_PROFILE_UPDATE = "organization.profile_update"
    ORGANIZATION_SUSPEND = "organization.suspend"
    ORGANIZATION_REACTIVATE = "organization.reactivate"
    ORGANIZATION_DELETE = "organization.delete"
    ORGANIZATION_RESTORE = "organization.restore"
    ORGANIZATION_PURGE = "organization.purge"
    LOGIN_SUCCESS = "login.success"
    LOGIN_FAILURE = "login.failure"
    LOGOUT = "logout"
    PASSWORD_CHANGE = "account.password_change"  # noqa: S105 - an action name
    EMAIL_VERIFY = "account.email_verify"
    MEMBER_ROLE_CHANGE = "member.role_change"
    MEMBER_REMOVE = "member.remove"
    MEMBER_LEAVE = "member.leave"
    OWNERSHIP_TRANSFER = "member.ownership_transfer"
    INVITATION_CREATE = "invitation.create"
    INVITATION_RESEND = "invitation.resend"
    INVITATION_REVOKE = "invitation.revoke"
    INVITATION_ACCEPT = "invitation.accept"
    BILLING_UPDATE = "billing.update"
    API_KEY_CREATE = "api_key.create"
    API_KEY_REVOKE = "api_key.revoke"
    ROLE_CREATE = "role.create"
    ROLE_UPDATE = "role.update"
    ROLE_DELETE = "role.delete"
    DOMAIN_ADD = "domain.add"
    DOMAIN_VERIFY = "domain.verify"
    DOMAIN_UPDATE = "domain.update"
    DOMAIN_REMOVE = "domain.remove"
    DOMAIN_VERIFICATION_LAPSE = "domain.verification_lapse"
    MEMBER_JOIN = "member.join"
    JOIN_REQUEST_CREATE = "join_request.create"
    JOIN_REQUEST_APPROVE = "join_request.approve"
    JOIN_REQUEST_DENY = "join_request.deny"
    # The operator's management API and its keys.
    MEMBER_ADD = "member.add"
    PLATFORM_KEY_CREATE = "platform_key.create"
    PLATFORM_KEY_REVOKE = "platform_key.revoke"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: ObjectId
    at: datetime
    action: str
    organization_id: ObjectId | None
    actor_id: ObjectId | None
    actor_email: str | None
    target: str | None
    client_address: str | None
    request_id: str | None
    details: dict[str, Any]
    # The API key that acted (its prefix), when a key did rather than a signed-in person.
    actor_key: str | None = None


def actor_fields(principal: Principal) -> dict[str, Any]:
    """Who did it and for which organization, from the caller's token or key."""
    fields: dict[str, Any] = {
        "organization_id": principal.organization_id,
        "actor_id": principal.account_id,
        "actor_email": principal.email,
    }
    if principal.api_key is not None:
        fields["actor_key"] = principal.api_key
    return fields


class AuditTrail:
    def __init__(self, store: Store) -> None:
        self._entries = store.master[AUDIT_LOG]

    async def record(
        self,
        action: AuditAction,
        *,
        organization_id: ObjectId | None,
        actor_id: ObjectId | None = None,
        actor_email: str | None = None,
        actor_key: str | None = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append an entry. A failure to record is logged, never turned into a failed request:
        the change it describes has already happened."""
        try:
            await self._entries.insert_one(
                {
                    "at": datetime.now(UTC),
                    "action": action.value,
                    "organization_id": organization_id,
                    "actor_id": actor_id,
                    "actor_email": actor_email,
                    "actor_key": actor_key,
                    "target": target,
                    "client_address": current_client_address(),
                    "request_id": current_request_id(),
                    "details": details or {},
                }
            )
        except Exception:
            logger.exception("could not record audit entry %s", action.value)

    async def page(
        self,
        organization_id: ObjectId,
        action: str | None,
        since: datetime | None,
        until: datetime | None,
        window: Window,
    ) -> Slice[AuditEntry]:
        query: dict[str, Any] = {"organization_id": organization_id}
        if action:
            query["action"] = action
        period = {op: moment for op, moment in (("$gte", since), ("$lt", until)) if moment}
        if period:
            query["at"] = period
        reading = NEWEST_FIRST.read(
            window, organization=organization_id, action=action, since=since, until=until
        )
        page = await reading.page(self._entries, query)
        return page.with_items([_entry(document) for document in page.items])


def _entry(document: dict[str, Any]) -> AuditEntry:
    at: datetime = document["at"]
    return AuditEntry(
        id=document["_id"],
        at=at if at.tzinfo else at.replace(tzinfo=UTC),
        action=document["action"],
        organization_id=document.get("organization_id"),
        actor_id=document.get("actor_id"),
        actor_email=document.get("actor_email"),
        target=document.get("target"),
        client_address=document.get("client_address"),
        request_id=document.get("request_id"),
        details=document.get("details") or {},
        actor_key=document.get("actor_key"),
    )


async def ensure_audit_indexes(store: Store, retention_days: int) -> None:
    """Indexes for reading by organization, action and time, and the retention TTL; a changed
    retention is applied to the existing TTL index (collMod) rather than failing."""
    entries = store.master[AUDIT_LOG]
    # The log, newest first, by keyset (`at`, then `_id`), with or without an action.
    await ensure_declared(
        entries,
        [
            IndexModel(
                [("organization_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)],
                name="organization_at",
            ),
            IndexModel(
                [
                    ("organization_id", ASCENDING),
                    ("action", ASCENDING),
                    ("at", DESCENDING),
                    ("_id", DESCENDING),
                ],
                name="organization_action_at",
            ),
        ],
    )
    seconds = retention_days * 86_400
    try:
        await entries.create_index(
            [("at", ASCENDING)], name="retention", expireAfterSeconds=seconds
        )
    except OperationFailure as exc:
        if exc.code != _INDEX_OPTIONS_CONFLICT:
            raise
        await store.master.command(
            "collMod",
            AUDIT_LOG,
            index={"name": "retention", "expireAfterSeconds": seconds},
        )
