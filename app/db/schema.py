"""The master database as operators see it: collection names and the indexes behind them.

Every index the service's queries rely on is declared here and ensured at start-up.
"""

from dataclasses import dataclass, field

from pymongo import ASCENDING, IndexModel

from app.db.store import Store

ORGANIZATIONS = "organizations"
ACCOUNTS = "accounts"
MEMBERSHIPS = "memberships"
# One short-lived lease per tenant-document write in progress; a rename waits for them.
WRITE_LEASES = "tenant_write_leases"
AUDIT_LOG = "audit_log"
WORKSPACES = "workspaces"
WORKSPACE_MEMBERS = "workspace_members"
INVITATIONS = "invitations"
# One document per organization identifier in use, `_id` = the identifier. Holding a claim is
# what entitles an organization to the tenant collection derived from it, including while a
# rename or delete is still moving or dropping that collection.
IDENTIFIER_CLAIMS = "identifier_claims"
# Logged-out tokens by `jti`, kept until they would have expired anyway.
REVOKED_TOKENS = "revoked_tokens"
# Failed-login counters per window, and addresses an account recently logged in from.
LOGIN_FAILURES = "login_failures"
TRUSTED_ADDRESSES = "login_trusted_addresses"
# One record per caller's `Idempotency-Key`, `_id` = a hash of caller and key: the request
# running, or its sealed answer, kept for replays until `expires_at`.
IDEMPOTENCY_KEYS = "idempotency_keys"


@dataclass(frozen=True)
class CollectionIndexes:
    collection: str
    indexes: list[IndexModel] = field(default_factory=list)


MASTER_INDEXES = (
    CollectionIndexes(
        ORGANIZATIONS,
        [
            IndexModel([("identifier", ASCENDING)], unique=True, name="identifier_unique"),
            IndexModel([("tenant_collection", ASCENDING)], name="tenant_collection"),
            IndexModel([("tenant_database", ASCENDING)], name="tenant_database"),
            IndexModel([("name_key", ASCENDING)], unique=True, name="name_key_unique"),
            # State counts (/metrics) and recovery's search for stale operations.
            IndexModel([("state", ASCENDING), ("modified_at", ASCENDING)], name="state_modified"),
        ],
    ),
    CollectionIndexes(
        ACCOUNTS,
        [
            IndexModel([("email_key", ASCENDING)], unique=True, name="email_key_unique"),
            IndexModel([("organization_id", ASCENDING)], name="organization_id"),
        ],
    ),
    CollectionIndexes(
        MEMBERSHIPS,
        [
            IndexModel(
                [("organization_id", ASCENDING), ("created_at", ASCENDING)],
                name="organization_created",
            ),
            IndexModel(
                [("organization_id", ASCENDING), ("role", ASCENDING), ("created_at", ASCENDING)],
                name="organization_role_created",
            ),
        ],
    ),
    CollectionIndexes(
        WORKSPACES,
        [
            IndexModel(
                [("organization_id", ASCENDING), ("name_key", ASCENDING)],
                unique=True,
                name="organization_name_unique",
            ),
            IndexModel(
                [("organization_id", ASCENDING), ("is_default", ASCENDING)],
                name="organization_default",
            ),
            IndexModel(
                [("organization_id", ASCENDING), ("created_at", ASCENDING)],
                name="organization_created",
            ),
        ],
    ),
    CollectionIndexes(
        WORKSPACE_MEMBERS,
        [
            IndexModel(
                [("workspace_id", ASCENDING), ("created_at", ASCENDING)], name="workspace_created"
            ),
            IndexModel(
                [("organization_id", ASCENDING), ("account_id", ASCENDING)],
                name="organization_account",
            ),
        ],
    ),
    CollectionIndexes(
        WRITE_LEASES,
        [
            IndexModel(
                [("organization_id", ASCENDING), ("expires_at", ASCENDING)], name="organization"
            )
        ],
    ),
    CollectionIndexes(
        INVITATIONS,
        [
            # One pending invitation per person and organization; answered ones drop the key.
            IndexModel([("pending_key", ASCENDING)], unique=True, sparse=True, name="pending"),
            IndexModel([("token_digest", ASCENDING)], sparse=True, name="token"),
            IndexModel(
                [("organization_id", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)],
                name="organization_status_created",
            ),
            IndexModel([("purge_at", ASCENDING)], expireAfterSeconds=0, name="purge"),
        ],
    ),
    CollectionIndexes(
        IDENTIFIER_CLAIMS,
        [
            IndexModel([("organization_id", ASCENDING)], name="organization_id"),
            IndexModel([("claimed_at", ASCENDING)], name="claimed_at"),
        ],
    ),
    *(
        CollectionIndexes(
            expiring,
            [IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry")],
        )
        for expiring in (
            REVOKED_TOKENS,
            LOGIN_FAILURES,
            TRUSTED_ADDRESSES,
            WRITE_LEASES,
            IDEMPOTENCY_KEYS,
        )
    ),
)


async def ensure_indexes(store: Store) -> None:
    for spec in MASTER_INDEXES:
        await store.master[spec.collection].create_indexes(spec.indexes)
