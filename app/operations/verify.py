"""Checking that the registry, the identifier claims and the tenant databases agree.

The service keeps them in step (docs, "Rules the service keeps"); a crash mid-operation, a
hand edit or a restore from an old backup can leave them apart. Every disagreement becomes a
`Finding`; `app.operations.repair` knows which ones it can settle.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bson import ObjectId

from app.access.roles import Role
from app.db.naming import identifier_for, name_key, tenant_collection_for
from app.db.store import Document, Store, TenantNamespace
from app.operations.registry import OperatorRegistry
from app.operations.tenant_catalog import TenantCatalog, namespaces_named_by
from app.registry.models import LifecycleState, Organization
from app.registry.tenants import TenantCollections


class Problem(StrEnum):
    UNFINISHED_OPERATION = "unfinished operation"
    ORPHAN_CLAIM = "orphan claim"
    MISSING_CLAIM = "missing claim"
    MISSING_COLLECTION = "missing collection"
    ORPHAN_COLLECTION = "orphan collection"
    NAME_MISMATCH = "name mismatch"
    OWNER_COUNT = "owner count out of step"
    NO_OWNER = "organization without owner"
    LONELY_ACCOUNT = "account without membership"
    DAMAGED_ENTRY = "damaged registry entry"


@dataclass(frozen=True, slots=True)
class Finding:
    problem: Problem
    subject: str
    detail: str
    organization_id: ObjectId | None = None
    collection: TenantNamespace | None = None
    identifier: str | None = None
    # Documents in `collection`, or the owner count to record, depending on the problem.
    count: int | None = None
    recorded: object = None
    age: timedelta | None = None
    state: LifecycleState | None = None
    # An orphan claim whose collection name an organization uses: the service's recovery
    # would drop that collection as a leftover, so it must not run until a human looks.
    collection_in_use: bool = False


@dataclass(frozen=True, slots=True)
class VerificationReport:
    checked_at: datetime
    organizations: int
    collections: int
    claims: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings

    def of(self, *problems: Problem) -> list[Finding]:
        return [finding for finding in self.findings if finding.problem in problems]


async def verify(store: Store) -> VerificationReport:
    registry = OperatorRegistry(store)
    tenants = TenantCollections(store)
    now = datetime.now(UTC)
    documents = await registry.organizations.all_documents()
    collections = await TenantCatalog(store).tenant_namespaces()
    claims = await registry.claims.all()
    owners = await registry.memberships.counts_by_organization(role=Role.OWNER)
    claimed = {(claim["_id"], claim.get("organization_id")) for claim in claims}

    findings: list[Finding] = []
    organizations: dict[ObjectId, Organization] = {}
    pointed_to: set[TenantNamespace] = set()
    for document in documents:
        pointed_to.update(namespaces_named_by(document, store.default_tenant_db))
        try:
            organization = Organization.from_document(document)
        except (KeyError, TypeError, ValueError) as exc:
            findings.append(_damaged(document, exc))
            continue
        organizations[organization.id] = organization
        findings.extend(
            _check_organization(
                organization,
                store.resolve(organization.namespace),
                now,
                collections,
                claimed,
                owners,
            )
        )

    for collection in sorted(collections - pointed_to, key=str):
        documents_held = await tenants.count(collection)
        emptiness = "empty" if not documents_held else f"holds {documents_held} document(s)"
        findings.append(
            Finding(
                Problem.ORPHAN_COLLECTION,
                str(collection),
                f"no organization points to it; {emptiness}",
                collection=collection,
                count=documents_held,
            )
        )

    for claim in claims:
        finding = await _check_claim(
            claim, organizations, documents, collections, pointed_to, tenants, now
        )
        if finding is not None:
            findings.append(finding)

    for account_id, email in await registry.accounts_without_membership():
        findings.append(
            Finding(Problem.LONELY_ACCOUNT, email, f"account {account_id} belongs to nothing")
        )
    return VerificationReport(now, len(documents), len(collections), len(claims), findings)


def _check_organization(
    organization: Organization,
    collection: TenantNamespace,
    now: datetime,
    collections: set[TenantNamespace],
    claimed: set[tuple[object, object]],
    owners: dict[ObjectId, int],
) -> list[Finding]:
    found: list[Finding] = []
    label = _label(organization)
    organization_id = organization.id
    if organization.state is LifecycleState.DELETED:
        # Settled in the trash: its collection is elsewhere until a restore or the purge.
        return found
    if organization.state is not LifecycleState.ACTIVE:
        age = now - organization.modified_at
        found.append(
            Finding(
                Problem.UNFINISHED_OPERATION,
                label,
                f"state {organization.state.value} for {describe_duration(age)}"
                + _pending_detail(organization),
                age=age,
                state=organization.state,
                organization_id=organization_id,
                collection=collection,
            )
        )
        # The checks below describe a settled organization; recovery settles this one first.
        return found
    if collection not in collections:
        found.append(
            Finding(
                Problem.MISSING_COLLECTION,
                label,
                f"{collection} does not exist",
                organization_id=organization_id,
                collection=collection,
            )
        )
    if (organization.identifier, organization.id) not in claimed:
        found.append(
            Finding(
                Problem.MISSING_CLAIM,
                label,
                f"no identifier claim holds {organization.identifier!r} for it",
                organization_id=organization_id,
                identifier=organization.identifier,
            )
        )
    found.extend(_name_mismatches(organization, label))
    actual = owners.get(organization.id, 0)
    if actual == 0:
        found.append(Finding(Problem.NO_OWNER, label, "no membership has the owner role"))
    elif actual != organization.owner_count:
        found.append(
            Finding(
                Problem.OWNER_COUNT,
                label,
                f"owner_count says {organization.owner_count}, {actual} owner membership(s)",
                organization_id=organization.id,
                count=actual,
                recorded=organization.owner_count,
            )
        )
    return found


def _name_mismatches(organization: Organization, label: str) -> list[Finding]:
    expected = {
        "name_key": name_key(organization.name),
        "identifier": identifier_for(organization.name_key),
        "tenant_collection": tenant_collection_for(organization.identifier),
    }
    actual = {
        "name_key": organization.name_key,
        "identifier": organization.identifier,
        "tenant_collection": organization.tenant_collection,
    }
    return [
        Finding(
            Problem.NAME_MISMATCH,
            label,
            f"{key} is {actual[key]!r}, the naming rules give {expected[key]!r}",
            organization_id=organization.id,
        )
        for key in expected
        if actual[key] != expected[key]
    ]


async def _check_claim(
    claim: Document,
    organizations: dict[ObjectId, Organization],
    documents: list[Document],
    collections: set[TenantNamespace],
    pointed_to: set[TenantNamespace],
    tenants: TenantCollections,
    now: datetime,
) -> Finding | None:
    identifier, holder_id = claim["_id"], claim.get("organization_id")
    holder = organizations.get(holder_id) if isinstance(holder_id, ObjectId) else None
    if holder is not None:
        if identifier in _identifiers_of(holder):
            return None
        reason = f"{_label(holder)} holds it but uses {holder.identifier!r}"
    elif any(document["_id"] == holder_id for document in documents):
        return None  # a damaged entry holds it; that entry is reported on its own
    else:
        reason = f"held by {holder_id}, which no organization is"
    name = tenant_collection_for(str(identifier))
    # Renames stay inside a database; where the holder is gone, look in every one.
    leftovers = sorted((c for c in collections if c.collection == name), key=str)
    leftover = leftovers[0] if leftovers else None
    held = await tenants.count(leftover) if leftover else None
    claimed_at = claim.get("claimed_at")
    age = now - claimed_at if isinstance(claimed_at, datetime) else None
    where = "no collection" if held is None else f"{leftover} holds {held} document(s)"
    in_use = any(namespace.collection == name for namespace in pointed_to)
    if in_use:
        where += ", and an organization uses that collection"
    return Finding(
        Problem.ORPHAN_CLAIM,
        str(identifier),
        f"{reason}; {where}" + (f"; claimed {describe_duration(age)} ago" if age else ""),
        organization_id=holder_id if isinstance(holder_id, ObjectId) else None,
        collection=leftover,
        identifier=str(identifier),
        count=held,
        age=age,
        collection_in_use=in_use,
    )


def _damaged(document: Document, exc: Exception) -> Finding:
    return Finding(
        Problem.DAMAGED_ENTRY,
        f"{document['_id']} ({document.get('name', '?')})",
        f"cannot be read ({type(exc).__name__}: {exc}); fix it by hand",
        organization_id=document["_id"] if isinstance(document["_id"], ObjectId) else None,
    )


def _identifiers_of(organization: Organization) -> set[str]:
    identifiers = {organization.identifier}
    if organization.pending_rename:
        identifiers.add(organization.pending_rename.identifier)
    return identifiers


def _pending_detail(organization: Organization) -> str:
    pending = organization.pending_rename
    if organization.state is LifecycleState.RENAMING and pending:
        how = "copying" if pending.copying else "moving"
        return f"; {how} {organization.tenant_collection} to {pending.tenant_collection}"
    move = organization.pending_move
    if organization.state is LifecycleState.MOVING and move:
        return f"; moving {organization.tenant_collection} from {move.source} to {move.target}"
    return ""


def _label(organization: Organization) -> str:
    return f"{organization.name} ({organization.id})"


def describe_duration(age: timedelta | None) -> str:
    if age is None:
        return "?"
    seconds = max(int(age.total_seconds()), 0)
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
