"""The master database as operators see it: collection names and the indexes behind them.

Every index the service's queries rely on is declared here and ensured at start-up. An index
keeps its name when its keys change: start-up replaces the older one of that name.
"""

from dataclasses import dataclass, field
from typing import Any, NoReturn

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from app.db.store import Document, Store

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
# Recent attempts per throttled key (failed logins per account and address, sign-ups per
# address and in all), `_id` = the key; and addresses an account recently logged in from.
# Earlier versions counted failures per fixed window in `login_failures`; nothing reads that
# collection any more, and its own TTL index empties it within a window.
THROTTLE_ATTEMPTS = "throttle_attempts"
TRUSTED_ADDRESSES = "login_trusted_addresses"
# One record per caller's `Idempotency-Key`, `_id` = a hash of caller and key: the request
# running, or its sealed answer, kept for replays until `expires_at`.
IDEMPOTENCY_KEYS = "idempotency_keys"
# One document per data migration that has run to the end, `_id` = the migration's name; a
# start-up finds it and skips the migration (see `app.db.migrations`).
MIGRATIONS = "migrations"
# Organization API keys, `_id` = the key's id (inside its secret); only a keyed hash of the
# secret is kept.
API_KEYS = "api_keys"
# The operator's API keys for `/api/v1/admin`, `_id` = the key's id (the one in its secret);
# only a keyed hash of each secret is kept. Read by `_id` alone, listed in `_id` order.
PLATFORM_KEYS = "platform_keys"
# Organizations' custom roles, `_id` = `<organization id>:<slug>`: joined by `_id` to every
# token's membership and every key as it is checked, and listed by `_id` range (an
# organization's roles share the prefix), so no index but `_id` serves them.
ROLES = "roles"
# Email verification links, `_id` = the account's id (one live link each); only a hash of
# the link's token is kept, and the record goes at its expiry.
EMAIL_VERIFICATIONS = "email_verifications"
# Mail domains organizations claim (app.domains): pending until a DNS TXT record proves
# them; a verified domain belongs to one organization (a unique sparse index says so).
ORGANIZATION_DOMAINS = "organization_domains"
# Requests to join an organization by a verified domain whose policy is `suggest`.
JOIN_REQUESTS = "join_requests"


def _search_indexes() -> list[IndexModel]:
    by_created = [("created_at", ASCENDING), ("_id", ASCENDING), ("name_key", ASCENDING)]
    # `name_key` is unique, so it orders the list alone (no `_id` after it).
    by_name = [("name_key", ASCENDING), ("created_at", ASCENDING)]
    pinned = [("status", ASCENDING), ("plan", ASCENDING)]
    domain = [("profile.domain", ASCENDING)]
    return [
        IndexModel([*pinned, *by_created], name="search_created"),
        IndexModel([*pinned, *by_name], name="search_name"),
        IndexModel([*domain, *pinned, *by_created], name="search_domain_created"),
        IndexModel([*domain, *pinned, *by_name], name="search_domain_name"),
    ]


# The event outbox (app.events): one stream per organization, `_id` = its id, with the next
# sequence number and the events begun but not yet settled; and the events, `_id` =
# `evt_<organization>_<sequence>`, kept until `expires_at`.
EVENT_STREAMS = "event_streams"
EVENTS = "events"
# Webhooks (app.webhooks): endpoints, one delivery per event and endpoint (claimed by a
# worker with a lease), and the log of each attempt.
WEBHOOK_ENDPOINTS = "webhook_endpoints"
WEBHOOK_DELIVERIES = "webhook_deliveries"
WEBHOOK_ATTEMPTS = "webhook_attempts"


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
            # Placement's and capacity's count per database: one indexed count each.
            IndexModel([("tenant_database", ASCENDING)], name="tenant_database"),
            # Who is renaming to a collection name (recovery, verify): only entries mid-rename
            # carry the field, so the index holds only them.
            IndexModel(
                [("pending_rename.tenant_collection", ASCENDING)],
                sparse=True,
                name="pending_rename_collection",
            ),
            IndexModel([("name_key", ASCENDING)], unique=True, name="name_key_unique"),
            # State counts (/metrics) and recovery's search for stale operations.
            IndexModel([("state", ASCENDING), ("modified_at", ASCENDING)], name="state_modified"),
            # The retention sweep's search for soft-deleted organizations due to be purged.
            IndexModel(
                [("state", ASCENDING), ("trash.purge_after", ASCENDING)], name="state_purge_after"
            ),
            # The platform API's search (`app.registry.repository.SEARCH_FIELDS`): `status`
            # and `plan` are always pinned (every value, when not filtered), then the order
            # (newest first, or by name), then the other range. With a domain, the same
            # behind it.
            *_search_indexes(),
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
            # An account's memberships, joined to it as it logs in.
            IndexModel([("account_id", ASCENDING)], name="account"),
            # The member list, oldest first, by keyset (`created_at`, then `_id`).
            IndexModel(
                [("organization_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="organization_created",
            ),
            IndexModel(
                [
                    ("organization_id", ASCENDING),
                    ("role", ASCENDING),
                    ("created_at", ASCENDING),
                    ("_id", ASCENDING),
                ],
                name="organization_role_created",
            ),
        ],
    ),
    CollectionIndexes(ROLES),
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
            # At most one default workspace per organization, whoever races to create it
            # (defaults made before this field existed do not carry it).
            IndexModel(
                [("default_for", ASCENDING)], unique=True, sparse=True, name="default_unique"
            ),
            # The workspace list by keyset (`created_at`, then `_id`).
            IndexModel(
                [("organization_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="organization_created",
            ),
        ],
    ),
    CollectionIndexes(
        WORKSPACE_MEMBERS,
        [
            # A workspace's member list by keyset (`created_at`, then `_id`).
            IndexModel(
                [("workspace_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="workspace_created",
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
            # Leases written before they carried `taken_at` expire by `expires_at` below.
            IndexModel(
                [("organization_id", ASCENDING), ("expires_at", ASCENDING)], name="organization"
            ),
            IndexModel(
                [("organization_id", ASCENDING), ("taken_at", ASCENDING)],
                name="organization_taken",
            ),
            # Forgotten a while after their 30 s (app.registry.write_leases) are over.
            IndexModel([("taken_at", ASCENDING)], expireAfterSeconds=60, name="taken_expiry"),
        ],
    ),
    CollectionIndexes(
        API_KEYS,
        [
            # An organization's keys by keyset, newest first (`created_at`, then `_id`).
            IndexModel(
                [("organization_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="organization_created",
            ),
            # The holders of a custom role: the live ones counted, all moved, before it is
            # deleted.
            IndexModel(
                [("organization_id", ASCENDING), ("role", ASCENDING), ("revoked_at", ASCENDING)],
                name="organization_role_revoked",
            ),
        ],
    ),
    CollectionIndexes(
        INVITATIONS,
        [
            # One pending invitation per person and organization; answered ones drop the key.
            IndexModel([("pending_key", ASCENDING)], unique=True, sparse=True, name="pending"),
            IndexModel([("token_digest", ASCENDING)], sparse=True, name="token"),
            # Links replaced by a resend, so they answer 410 rather than 404.
            IndexModel(
                [("replaced_token_digests", ASCENDING)], sparse=True, name="replaced_tokens"
            ),
            # Pending invitations by keyset (`created_at`, then `_id`); the expiry, last, is
            # checked on the index entries before any invitation is read.
            IndexModel(
                [
                    ("organization_id", ASCENDING),
                    ("status", ASCENDING),
                    ("created_at", ASCENDING),
                    ("_id", ASCENDING),
                    ("expires_at", ASCENDING),
                ],
                name="organization_status_created",
            ),
            # The seat count: an organization's pending invitations not yet expired.
            IndexModel(
                [("organization_id", ASCENDING), ("status", ASCENDING), ("expires_at", ASCENDING)],
                name="organization_status_expiry",
            ),
            IndexModel([("purge_at", ASCENDING)], expireAfterSeconds=0, name="purge"),
            # The pending holders of a custom role (counted, or moved, before it is deleted).
            IndexModel(
                [("organization_id", ASCENDING), ("role", ASCENDING), ("status", ASCENDING)],
                name="organization_role_status",
            ),
            # The sweep that announces expiries: pending invitations past theirs, not yet told.
            IndexModel(
                [("status", ASCENDING), ("expires_at", ASCENDING), ("expiry_noticed", ASCENDING)],
                name="status_expiry",
            ),
        ],
    ),
    CollectionIndexes(
        IDENTIFIER_CLAIMS,
        [
            IndexModel([("organization_id", ASCENDING)], name="organization_id"),
            # Recovery's sweep: the claims of operations under way (a date) and those never
            # marked (null); the settled ones (false) sit apart, unread.
            IndexModel([("unsettled_since", ASCENDING)], name="unsettled"),
        ],
    ),
    CollectionIndexes(
        EMAIL_VERIFICATIONS,
        [IndexModel([("token_digest", ASCENDING)], unique=True, name="token_unique")],
    ),
    CollectionIndexes(
        ORGANIZATION_DOMAINS,
        [
            # An organization adds a domain once.
            IndexModel(
                [("organization_id", ASCENDING), ("domain", ASCENDING)],
                unique=True,
                name="organization_domain_unique",
            ),
            # A verified domain belongs to one organization: only verified entries carry
            # `verified_domain`, so only they are in this index and any number may be
            # pending for the same domain. It also finds the organization an account's
            # email domain may join. (Sparse rather than partial: the same on MongoDB for a
            # single field, and the in-memory store enforces it too.)
            IndexModel(
                [("verified_domain", ASCENDING)],
                unique=True,
                sparse=True,
                name="verified_domain_unique",
            ),
            # An organization's domains by keyset (`created_at`, then `_id`).
            IndexModel(
                [("organization_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="organization_created",
            ),
            # The re-verification sweep: verified domains checked longest ago first.
            IndexModel(
                [("status", ASCENDING), ("last_checked_at", ASCENDING)], name="status_checked"
            ),
        ],
    ),
    CollectionIndexes(
        JOIN_REQUESTS,
        [
            # One pending request per account and organization; decided ones drop the key.
            IndexModel([("pending_key", ASCENDING)], unique=True, sparse=True, name="pending"),
            IndexModel(
                [
                    ("organization_id", ASCENDING),
                    ("status", ASCENDING),
                    ("created_at", ASCENDING),
                    ("_id", ASCENDING),
                ],
                name="organization_status_created",
            ),
        ],
    ),
    CollectionIndexes(MIGRATIONS),
    CollectionIndexes(PLATFORM_KEYS),
    CollectionIndexes(
        EVENT_STREAMS,
        # Recovery's search for events begun long ago and never settled.
        [IndexModel([("pending.at", ASCENDING)], name="pending_at")],
    ),
    CollectionIndexes(
        EVENTS,
        [
            # The pull API: an organization's events in order.
            IndexModel(
                [("organization_id", ASCENDING), ("sequence", ASCENDING)],
                unique=True,
                name="organization_sequence",
            ),
            # Replaying a time range.
            IndexModel(
                [("organization_id", ASCENDING), ("occurred_at", ASCENDING)],
                name="organization_occurred",
            ),
            # Operators' tail across organizations.
            IndexModel([("occurred_at", ASCENDING)], name="occurred"),
            # Events the webhook worker has not yet made deliveries of: only they carry it.
            IndexModel([("fanout_pending", ASCENDING)], sparse=True, name="fanout_pending"),
            # Whether a purged organization's endpoints still have an event to be sent.
            IndexModel(
                [("organization_id", ASCENDING), ("fanout_pending", ASCENDING)],
                name="organization_fanout",
            ),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry"),
        ],
    ),
    CollectionIndexes(
        WEBHOOK_ENDPOINTS,
        [
            IndexModel(
                [("organization_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="organization_created",
            ),
            # Whether an organization has an enabled endpoint naming tenant-document types,
            # asked before each document write (app.webhooks.subscriptions).
            IndexModel(
                [("organization_id", ASCENDING), ("enabled", ASCENDING), ("types", ASCENDING)],
                name="organization_enabled_types",
            ),
            # Endpoints of purged organizations, for the worker to remove: only they and those
            # of deleted organizations carry the field (app.webhooks.dormancy).
            IndexModel([("dormant", ASCENDING)], sparse=True, name="dormant"),
        ],
    ),
    CollectionIndexes(
        WEBHOOK_DELIVERIES,
        [
            # The worker's queue: due deliveries, oldest due first.
            IndexModel([("state", ASCENDING), ("due_at", ASCENDING)], name="state_due"),
            # A deleted organization's deliveries: released by a restore, dropped by a purge
            # (all but those of its last events), awaited before its endpoints are removed.
            IndexModel(
                [("organization_id", ASCENDING), ("state", ASCENDING), ("event_type", ASCENDING)],
                name="organization_state",
            ),
            IndexModel(
                [("endpoint_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="endpoint_created",
            ),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry"),
        ],
    ),
    CollectionIndexes(
        WEBHOOK_ATTEMPTS,
        [
            IndexModel(
                [("endpoint_id", ASCENDING), ("at", ASCENDING), ("_id", ASCENDING)],
                name="endpoint_at",
            ),
            IndexModel([("delivery_id", ASCENDING), ("at", ASCENDING)], name="delivery_at"),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry"),
        ],
    ),
    *(
        CollectionIndexes(
            expiring,
            [IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry")],
        )
        for expiring in (
            REVOKED_TOKENS,
            THROTTLE_ATTEMPTS,
            TRUSTED_ADDRESSES,
            WRITE_LEASES,
            IDEMPOTENCY_KEYS,
            EMAIL_VERIFICATIONS,
        )
    ),
)


async def ensure_indexes(store: Store) -> None:
    for spec in MASTER_INDEXES:
        await ensure_declared(store.master[spec.collection], spec.indexes)


class IndexConflict(Exception):
    """An index the service declares cannot be created: the collection holds one with the
    same keys under another name or options (85), or one of the same name and other options
    (86). Start-up stops and says which, for an operator to drop or rename by hand."""

    def __init__(self, collection: str, index: str, code: int, reason: str) -> None:
        kind = "same keys, other name or options" if code == 85 else "same name, other options"
        super().__init__(
            f"index {index!r} on collection {collection!r} conflicts with an existing index "
            f"({kind}, code {code}): {reason}. Drop or rename the existing index (mongosh: "
            f"db.{collection}.getIndexes()) and start again."
        )
        self.collection = collection
        self.index = index
        self.code = code


def _plain(keys: Any) -> list[tuple[str, Any]]:
    """Index keys as comparable pairs; servers may answer directions as doubles (1.0)."""
    pairs = keys.items() if isinstance(keys, dict) else keys
    return [(name, value if isinstance(value, str) else int(value)) for name, value in pairs]


def same_keys(found: Any, declared: Any) -> bool:
    return _plain(found) == _plain(declared)


async def ensure_declared(collection: AsyncCollection[Document], indexes: list[IndexModel]) -> None:
    """Create `indexes`; one that exists under a declared name with other keys (declared by an
    earlier version) is dropped first, so the name stays and the keys become the declared ones.
    A collection without any index (one that does not exist) is created by this."""
    if not indexes:
        return
    existing = await collection.index_information()
    for index in indexes:
        name = index.document["name"]
        found = existing.get(name)
        if found is not None and not same_keys(found["key"], index.document["key"]):
            await collection.drop_index(name)
    try:
        await collection.create_indexes(indexes)
    except OperationFailure as exc:
        if exc.code not in _INDEX_CONFLICTS:
            raise
        await _name_the_conflict(collection, indexes, exc)


_INDEX_CONFLICTS = {85, 86}  # IndexOptionsConflict, IndexKeySpecsConflict


async def _name_the_conflict(
    collection: AsyncCollection[Document], indexes: list[IndexModel], failure: OperationFailure
) -> NoReturn:
    """Create the indexes one at a time to raise IndexConflict for the one refused."""
    for index in indexes:
        try:
            await collection.create_indexes([index])
        except OperationFailure as exc:
            if exc.code in _INDEX_CONFLICTS:
                reason = str(exc.details.get("errmsg") if exc.details else exc)
                name = index.document["name"]
                raise IndexConflict(collection.name, name, int(exc.code or 0), reason) from None
            raise
    reason = str(failure.details.get("errmsg") if failure.details else failure)
    raise IndexConflict(collection.name, "?", int(failure.code or 0), reason) from None
