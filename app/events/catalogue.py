"""Every event type, in one list: the pull API, webhook subscriptions, the OpenAPI document
and `docs/guide/events.md` all read it from here."""

from enum import StrEnum


class EventType(StrEnum):
    ORGANIZATION_CREATED = "organization.created"
    ORGANIZATION_RENAMED = "organization.renamed"
    ORGANIZATION_PROFILE_UPDATED = "organization.profile_updated"
    ORGANIZATION_PLAN_CHANGED = "organization.plan_changed"
    ORGANIZATION_BILLING_UPDATED = "organization.billing_updated"
    ORGANIZATION_SUSPENDED = "organization.suspended"
    ORGANIZATION_REACTIVATED = "organization.reactivated"
    ORGANIZATION_DELETED = "organization.deleted"
    ORGANIZATION_RESTORED = "organization.restored"
    ORGANIZATION_PURGED = "organization.purged"
    ORGANIZATION_MOVED = "organization.moved"
    MEMBER_ADDED = "member.added"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    MEMBER_LEFT = "member.left"
    MEMBER_OWNERSHIP_TRANSFERRED = "member.ownership_transferred"
    INVITATION_CREATED = "invitation.created"
    INVITATION_RESENT = "invitation.resent"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_EXPIRED = "invitation.expired"
    WORKSPACE_CREATED = "workspace.created"
    WORKSPACE_RENAMED = "workspace.renamed"
    WORKSPACE_ARCHIVED = "workspace.archived"
    WORKSPACE_UNARCHIVED = "workspace.unarchived"
    WORKSPACE_DELETED = "workspace.deleted"
    WORKSPACE_MEMBER_PUT = "workspace.member_put"
    WORKSPACE_MEMBER_REMOVED = "workspace.member_removed"
    ROLE_CREATED = "role.created"
    ROLE_UPDATED = "role.updated"
    ROLE_DELETED = "role.deleted"
    MEMBER_JOINED = "member.joined"
    DOMAIN_ADDED = "domain.added"
    DOMAIN_VERIFIED = "domain.verified"
    DOMAIN_UPDATED = "domain.updated"
    DOMAIN_REMOVED = "domain.removed"
    DOMAIN_VERIFICATION_LAPSED = "domain.verification_lapsed"
    JOIN_REQUEST_CREATED = "join_request.created"
    JOIN_REQUEST_APPROVED = "join_request.approved"
    JOIN_REQUEST_DENIED = "join_request.denied"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    DOCUMENT_CREATED = "document.created"
    DOCUMENT_UPDATED = "document.updated"
    DOCUMENT_DELETED = "document.deleted"


DESCRIPTIONS: dict[EventType, str] = {
    EventType.ORGANIZATION_CREATED: "The organization was created; `data` is the organization.",
    EventType.ORGANIZATION_RENAMED: (
        "The organization was renamed; `data` has the organization and `previous` "
        "(`organization_name`, `organization_identifier`, `tenant_collection` before)."
    ),
    EventType.ORGANIZATION_PROFILE_UPDATED: (
        "Profile fields changed; `data` has the organization, `profile` and `changed`."
    ),
    EventType.ORGANIZATION_PLAN_CHANGED: "The plan changed; `data` has `plan` and `previous_plan`.",
    EventType.ORGANIZATION_BILLING_UPDATED: (
        "Billing fields other than the plan changed; `data` has `changed`."
    ),
    EventType.ORGANIZATION_SUSPENDED: "The organization was suspended (its data is read-only).",
    EventType.ORGANIZATION_REACTIVATED: "A suspended organization was reactivated.",
    EventType.ORGANIZATION_DELETED: (
        "The organization was deleted: gone from the API. `data` is the organization with "
        "`restorable_until`, until when it can be restored (null when it was deleted for good "
        "at once, and `organization.purged` follows)."
    ),
    EventType.ORGANIZATION_RESTORED: (
        "A deleted organization was restored with all its data; `data` is the organization."
    ),
    EventType.ORGANIZATION_PURGED: (
        "The organization's data was deleted for good (at once, by an owner or operator, or "
        "by the service once `restorable_until` passed); `data` is the organization with "
        "`deleted_at` (null when deleted for good at once)."
    ),
    EventType.ORGANIZATION_MOVED: (
        "An operator moved the tenant collection; `data` has `previous_database` and `database`."
    ),
    EventType.MEMBER_ADDED: (
        "Someone became a member other than by an invitation (an operator's `accounts "
        "create-owner`); `data` is the member."
    ),
    EventType.MEMBER_ROLE_CHANGED: (
        "A member's role changed; `data` has the member and `previous_role`."
    ),
    EventType.MEMBER_REMOVED: "A member was removed by an owner or admin; `data` is the member.",
    EventType.MEMBER_LEFT: "A member left the organization; `data` is the member.",
    EventType.MEMBER_OWNERSHIP_TRANSFERRED: (
        "Ownership passed to another member; `data` has `new_owner` and `previous_owner`."
    ),
    EventType.INVITATION_CREATED: "An invitation was sent; `data` is the invitation.",
    EventType.INVITATION_RESENT: (
        "An invitation got a new link and expiry; `data` is the invitation."
    ),
    EventType.INVITATION_REVOKED: "An invitation was revoked; `data` is the invitation.",
    EventType.INVITATION_ACCEPTED: (
        "An invitation was accepted; `data` has the invitation and the new `member` (a person "
        "who joins this way is announced by this event, not by `member.added`)."
    ),
    EventType.INVITATION_EXPIRED: (
        "A pending invitation passed its expiry unanswered; recorded when the service "
        "notices (a sweep every `INVITATION_EXPIRY_SWEEP_SECONDS`), so `occurred_at` may "
        "follow `expires_at` by that much."
    ),
    EventType.WORKSPACE_CREATED: "A workspace was created; `data` is the workspace.",
    EventType.WORKSPACE_RENAMED: "A workspace was renamed; `data` has it and `previous_name`.",
    EventType.WORKSPACE_ARCHIVED: "A workspace was archived; `data` is the workspace.",
    EventType.WORKSPACE_UNARCHIVED: "A workspace was taken out of the archive.",
    EventType.WORKSPACE_DELETED: (
        "A workspace and its documents were deleted; `data` has the workspace id and "
        "`documents_deleted`."
    ),
    EventType.WORKSPACE_MEMBER_PUT: "Someone was given (or changed) a workspace role.",
    EventType.WORKSPACE_MEMBER_REMOVED: "Someone lost their workspace role.",
    EventType.ROLE_CREATED: "A custom role was created; `data` is the role.",
    EventType.ROLE_UPDATED: (
        "A custom role's name, description or permissions changed; `data` is the role, with "
        "`previous_permissions`. Its holders have the new permissions from their next request."
    ),
    EventType.ROLE_DELETED: (
        "A custom role was deleted; `data` is the role and `replacement`, the role its "
        "holders were moved to (null when it had none)."
    ),
    EventType.MEMBER_JOINED: (
        "Someone joined by a verified domain whose join policy is `auto`; `data` has the "
        "`member` and the `domain`."
    ),
    EventType.DOMAIN_ADDED: (
        "A domain was added (pending until its TXT record is found); `data` is the domain."
    ),
    EventType.DOMAIN_VERIFIED: "A domain's TXT record was found; `data` is the domain.",
    EventType.DOMAIN_UPDATED: (
        "A domain's join policy or default role changed; `data` has the domain and `previous` "
        "(`join_policy`, `default_role` before)."
    ),
    EventType.DOMAIN_REMOVED: "A domain was removed from the organization; `data` is the domain.",
    EventType.DOMAIN_VERIFICATION_LAPSED: (
        "A scheduled or requested check no longer found a verified domain's TXT record: the "
        "domain is `lapsed` and its join policy stops applying; `data` has the domain and "
        "`reason`."
    ),
    EventType.JOIN_REQUEST_CREATED: (
        "An account at a verified domain (policy `suggest`) asked to join; `data` is the request."
    ),
    EventType.JOIN_REQUEST_APPROVED: (
        "An owner or admin approved a join request: the person is a member with `role`."
    ),
    EventType.JOIN_REQUEST_DENIED: "An owner or admin denied a join request.",
    EventType.WEBHOOK_ENDPOINT_DISABLED: (
        "The service disabled a webhook endpoint that kept failing; `data` is the endpoint."
    ),
    EventType.API_KEY_CREATED: (
        "An API key was created; `data` is the key as the API lists it (its `prefix`, never "
        "its secret)."
    ),
    EventType.API_KEY_REVOKED: "An API key was revoked; `data` is the key, with `revoked_at`.",
    EventType.DOCUMENT_CREATED: (
        "A tenant document was created; `data` has `id`, `workspace_id` and `version` "
        "(never the body). Recorded only while an enabled endpoint of the organization "
        "names document types (then in the pull API too); sent only to those endpoints."
    ),
    EventType.DOCUMENT_UPDATED: "A tenant document was replaced or patched (ids and version).",
    EventType.DOCUMENT_DELETED: "A tenant document was deleted (ids).",
}

# Tenant-document changes are many and are sent only to endpoints that ask for them.
DOCUMENT_TYPES = frozenset(
    {EventType.DOCUMENT_CREATED, EventType.DOCUMENT_UPDATED, EventType.DOCUMENT_DELETED}
)
MAX_PATTERN_LENGTH = 64


def matches(pattern: str, event_type: str) -> bool:
    """`*` matches every type but documents', `organization.*` a family, anything else one
    type. Document types are matched only by name or by `document.*`."""
    if pattern == "*":
        return event_type not in DOCUMENT_TYPES
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def is_valid_pattern(pattern: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        family = pattern[:-2]
        return any(t.value.startswith(family + ".") for t in EventType)
    return pattern in EventType._value2member_map_
