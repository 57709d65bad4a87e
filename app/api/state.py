"""Everything the lifespan builds once and every request shares: repositories and services.

Repositories and services hold no per-request state, so one of each serves the whole
process; request handlers receive them through the aliases in `app.api.deps`.
"""

from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, TypedDict

from app.access.keys import KeyHasher
from app.access.passwords import PasswordHasher
from app.access.tokens import TokenCodec
from app.accounts.memberships import MembershipRepository
from app.accounts.repository import AccountRepository
from app.apikeys.repository import ApiKeyRepository
from app.apikeys.service import ApiKeyService, RequestCounter
from app.audit.trail import AuditTrail
from app.billing.service import BillingService
from app.config import ConfigurationError, Settings
from app.db.store import Store
from app.documents.events import DocumentEvents
from app.documents.service import DocumentService
from app.documents.validation import DocumentLimits
from app.domains.dns_check import TxtChecker, parse_nameserver
from app.domains.joining import JoinService
from app.domains.repository import DomainRepository, JoinRequestRepository
from app.domains.service import DomainService
from app.email_verification.repository import EmailVerificationRepository
from app.email_verification.service import EmailVerificationService, VerificationPolicy
from app.events.outbox import Outbox, utc_now
from app.events.repository import EventRepository
from app.events.service import EventService
from app.idempotency.repository import IdempotencyRecords
from app.invitations.delivery import build_sender
from app.invitations.expiry import ExpiryNotices
from app.invitations.repository import InvitationRepository
from app.invitations.seats import Seats
from app.invitations.service import InvitationService
from app.members.service import MemberService
from app.observability.metrics import Metrics
from app.operations.outbox import build_outbox
from app.organizations.directory import OrganizationDirectory
from app.organizations.lifecycle import Checkpoint, Lifecycle
from app.organizations.recovery import LifecycleRecovery
from app.organizations.retention import PurgeSweep, Retention
from app.organizations.service import OrganizationService
from app.organizations.signups import SignupPolicy, SignupThrottle
from app.platform.administration import PlatformAdministration
from app.platform.repository import PlatformKeyRepository
from app.platform.service import PlatformKeys
from app.registry.capacity import CapacityMonitor
from app.registry.placement import PlacementPolicy, TenantPlacement
from app.registry.repository import OrganizationRepository
from app.registry.tenants import TenantCollections
from app.registry.write_leases import WriteLeases
from app.roles.repository import RoleRepository
from app.roles.service import RoleService
from app.sessions.attempts import AttemptLog
from app.sessions.revocation import RevokedTokens
from app.sessions.service import SessionService
from app.sessions.throttle import LoginThrottle, ThrottlePolicy
from app.webhooks.repository import DeliveryRepository, EndpointRepository
from app.webhooks.secrets import SecretBox
from app.webhooks.sender import Sender
from app.webhooks.service import WebhookService
from app.webhooks.subscriptions import DocumentSubscriptions
from app.webhooks.targets import TargetPolicy
from app.webhooks.worker import DeliveryWorker, WorkerLimits
from app.workspaces.access import WorkspaceAccess
from app.workspaces.service import WorkspaceService


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: Store
    metrics: Metrics
    capacity: CapacityMonitor
    placement: TenantPlacement
    organization_registry: OrganizationRepository
    audit: AuditTrail
    sessions: SessionService
    organizations: OrganizationService
    directory: OrganizationDirectory
    members: MemberService
    invitations: InvitationService
    billing: BillingService
    workspaces: WorkspaceService
    documents: DocumentService
    recovery: LifecycleRecovery
    retention: Retention
    purge_sweep: PurgeSweep
    idempotency: IdempotencyRecords
    hasher: PasswordHasher
    api_keys: ApiKeyService
    roles: RoleService
    platform_keys: PlatformKeys
    platform: PlatformAdministration
    outbox: Outbox
    events: EventService
    webhooks: WebhookService
    webhook_worker: DeliveryWorker
    expiry_notices: ExpiryNotices
    email_verification: EmailVerificationService
    domains: DomainService
    joining: JoinService


class State(TypedDict):
    """The lifespan's state, as Starlette hands it to every request (`request.state`)."""

    services: Services


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        window=timedelta(seconds=settings.login_window_seconds),
        max_per_account=settings.login_max_failures_per_account,
        max_per_address=settings.login_max_failures_per_address,
        trust_for=timedelta(days=settings.login_trusted_address_days),
    )


def signup_policy(settings: Settings) -> SignupPolicy:
    return SignupPolicy(
        per_address=settings.signup_per_address_per_hour, total=settings.signup_total_per_hour
    )


def verification_policy(settings: Settings) -> VerificationPolicy:
    return VerificationPolicy(
        link_lifetime=timedelta(hours=settings.email_verification_ttl_hours),
        url_template=settings.email_verification_url_template,
        resend_after=timedelta(seconds=settings.email_verification_resend_seconds),
        per_hour=settings.email_verification_per_hour,
    )


def txt_checker(settings: Settings) -> TxtChecker:
    try:
        nameservers = [parse_nameserver(value) for value in settings.dns_nameservers]
    except ValueError:
        raise ConfigurationError(
            "DNS_NAMESERVERS must be IP addresses, each with an optional port: "
            "192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53"
        ) from None
    return TxtChecker(nameservers, settings.dns_timeout_seconds)


def token_codec(settings: Settings) -> TokenCodec:
    return TokenCodec(
        keys=settings.signing_keys(),
        algorithm=settings.algorithm,
        lifetime=timedelta(minutes=settings.token_lifetime),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
    )


def build_services(
    settings: Settings,
    store: Store,
    *,
    metrics: Metrics,
    hasher: PasswordHasher,
    capacity: CapacityMonitor,
    checkpoint: Checkpoint,
    throttle: LoginThrottle | None = None,
    signups: SignupThrottle | None = None,
) -> Services:
    """Wire every repository into the services that use it, once."""
    organizations = OrganizationRepository(store)
    accounts = AccountRepository(store)
    memberships = MembershipRepository(store)
    invitations = InvitationRepository(store)
    tenants = TenantCollections(store, copy_batch_size=settings.tenant_copy_batch_size)
    workspaces = WorkspaceAccess(store)
    audit = AuditTrail(store)
    roles = RoleRepository(store)
    seats = Seats(memberships, invitations, organizations, settings.plans)
    lifecycle = Lifecycle.configured(store, settings, checkpoint)
    outbox = build_outbox(settings, store)
    subscriptions = DocumentSubscriptions(EndpointRepository(store))
    sessions = SessionService(
        accounts,
        memberships,
        organizations,
        hasher,
        token_codec(settings),
        throttle or LoginThrottle(store, throttle_policy(settings)),
        RevokedTokens(store),
        metrics,
        audit,
        workspaces,
        roles,
    )
    placement = TenantPlacement(
        store.tenant_pool,
        PlacementPolicy(settings.tenant_placement),
        # The pool's databases, and "" for entries recorded before placement.
        partial(organizations.collections_per_database, ["", *store.tenant_pool]),
        default_database=store.default_tenant_db,
        full_databases=capacity.full_databases,
    )
    organization_service = OrganizationService(
        lifecycle,
        organizations,
        accounts,
        tenants,
        hasher,
        sessions,
        metrics,
        audit,
        placement,
        signups or SignupThrottle(store, signup_policy(settings)),
        outbox,
        founding_limit=settings.max_organizations_per_account,
    )
    api_key_records = ApiKeyRepository(store)
    role_service = RoleService(
        roles,
        {"members": memberships, "invitations": invitations, "api_keys": api_key_records},
        organizations,
        audit,
        outbox,
        limit=settings.custom_roles_per_organization,
    )
    directory = OrganizationDirectory(
        organizations, memberships, invitations, tenants, audit, workspaces, outbox, role_service
    )
    billing = BillingService(organizations, seats, settings.plans, audit, outbox)
    retention = Retention(
        lifecycle,
        organizations,
        accounts,
        memberships,
        sessions,
        hasher,
        audit,
        outbox,
        retention=timedelta(days=settings.deleted_retention_days),
    )
    sender = build_sender(settings)
    domains = DomainRepository(store)
    return Services(
        settings=settings,
        store=store,
        metrics=metrics,
        capacity=capacity,
        placement=placement,
        organization_registry=organizations,
        audit=audit,
        sessions=sessions,
        organizations=organization_service,
        directory=directory,
        members=MemberService(
            memberships, accounts, organizations, audit, workspaces.members, outbox, role_service
        ),
        invitations=InvitationService(
            invitations,
            memberships,
            accounts,
            organizations,
            hasher,
            sessions,
            sender,
            settings,
            audit,
            workspaces,
            seats,
            outbox,
            role_service,
        ),
        billing=billing,
        workspaces=WorkspaceService(
            store, workspaces, memberships, organizations, WriteLeases(store), events=outbox
        ),
        documents=DocumentService(
            store,
            organizations,
            WriteLeases(store),
            workspaces,
            DocumentLimits(
                settings.document_max_bytes,
                settings.document_max_depth,
                settings.document_max_batch,
            ),
            DocumentEvents(outbox, subscriptions),
        ),
        recovery=LifecycleRecovery(lifecycle),
        retention=retention,
        purge_sweep=PurgeSweep(lifecycle, organizations, audit, outbox),
        idempotency=IdempotencyRecords(store, settings.signing_keys()),
        hasher=hasher,
        api_keys=ApiKeyService(
            api_key_records,
            KeyHasher(settings.signing_keys()),
            workspaces,
            audit,
            RequestCounter(settings.api_key_requests_per_minute),
            role_service,
            outbox,
        ),
        roles=role_service,
        platform_keys=PlatformKeys(
            PlatformKeyRepository(store), KeyHasher(settings.signing_keys()), audit
        ),
        platform=PlatformAdministration(
            organizations=organizations,
            accounts=accounts,
            memberships=memberships,
            workspaces=workspaces,
            directory=directory,
            organization_service=organization_service,
            billing=billing,
            retention=retention,
            seats=seats,
            plans=settings.plans,
            audit=audit,
            events=outbox,
        ),
        outbox=outbox,
        events=EventService(EventRepository(store)),
        expiry_notices=ExpiryNotices(invitations, outbox, utc_now),
        email_verification=EmailVerificationService(
            EmailVerificationRepository(store),
            accounts,
            AttemptLog(store),
            sender,
            verification_policy(settings),
            audit,
        ),
        domains=DomainService(domains, organizations, txt_checker(settings), outbox, audit),
        joining=JoinService(
            domains,
            JoinRequestRepository(store),
            accounts,
            memberships,
            organizations,
            seats,
            workspaces,
            outbox,
            audit,
        ),
        **webhook_services(settings, store, outbox, metrics, subscriptions),
    )


def webhook_services(
    settings: Settings,
    store: Store,
    outbox: Outbox,
    metrics: Metrics,
    subscriptions: DocumentSubscriptions,
) -> dict[str, Any]:
    """The webhook service and this instance's delivery worker, woken by each commit."""
    endpoints = EndpointRepository(store)
    deliveries = DeliveryRepository(store, timedelta(days=settings.webhook_retention_days))
    events = EventRepository(store)
    box = SecretBox(settings.signing_keys())
    policy = webhook_policy(settings)
    worker = DeliveryWorker(
        events,
        endpoints,
        deliveries,
        Sender(policy, settings.webhook_timeout_seconds, settings.webhook_response_max_bytes),
        box,
        outbox,
        worker_limits(settings),
        metrics=metrics,
        clock=utc_now,
    )
    outbox.on_commit(worker.wake)
    service = WebhookService(
        endpoints, deliveries, events, box, policy, utc_now, worker.wake, subscriptions
    )
    return {"webhooks": service, "webhook_worker": worker}


def webhook_policy(settings: Settings) -> TargetPolicy:
    return TargetPolicy(
        allow_private=settings.webhook_allow_private_targets,
        allow_http=settings.environment == "development",
    )


def worker_limits(settings: Settings) -> WorkerLimits:
    return WorkerLimits(
        concurrency=settings.webhook_concurrency,
        per_endpoint=settings.webhook_endpoint_concurrency,
        # Longer than any attempt can last, so a lease never lapses under a live attempt.
        lease=timedelta(seconds=settings.webhook_timeout_seconds + 60),
        disable_after=timedelta(hours=settings.webhook_disable_after_hours),
        poll=timedelta(seconds=settings.webhook_poll_seconds),
    )
