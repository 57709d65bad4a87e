"""Service settings, read from the environment and an optional `.env` file."""

import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Self

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from app.plans import Plan, Plans, parse_member_limits

MEMORY_URI = "memory://"

# Secrets that appear in tutorials and templates; a deployment using one is misconfigured.
_PLACEHOLDER_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "changethis",
        "change-this",
        "secret",
        "secret-key",
        "secretkey",
        "your-secret-key",
        "your_secret_key",
        "supersecret",
        "super-secret-key",
        "replace-me",
        "replace-with-a-long-random-string",
        "please-change-this-secret-key-in-production",
    }
)
MIN_SECRET_BYTES = 32

# MongoDB refuses these characters in database names; 63 bytes keeps every namespace
# (database + "." + tenant collection) well under the 255-byte limit.
_DB_NAME_FORBIDDEN = re.compile(r'[/\\. "$*<>:|?\x00]')
MAX_DB_NAME_BYTES = 63


_DB_NAME_RULE = f'must be at most {MAX_DB_NAME_BYTES} bytes without / \\ . space " $ * < > : | ?'


# MongoDB's own databases: users, roles and cluster state (admin), the oplog and
# per-member data that is never replicated (local), sessions and sharding metadata (config).
RESERVED_DATABASES = frozenset({"admin", "local", "config"})


def is_valid_database_name(name: str) -> bool:
    return bool(name) and not (
        _DB_NAME_FORBIDDEN.search(name) or len(name.encode()) > MAX_DB_NAME_BYTES
    )


def is_reserved_database(name: str) -> bool:
    return name.casefold() in RESERVED_DATABASES


def case_variant_among(name: str, others: Iterable[str]) -> str | None:
    """Another name that differs from `name` only in case: MongoDB refuses to create a
    database whose name differs from an existing one only in case (DatabaseDifferCase)."""
    return next(
        (other for other in others if other != name and other.casefold() == name.casefold()),
        None,
    )


# A comma-separated list in the environment (`a, b,c`), a list when given in code.
CommaSeparated = Annotated[list[str], NoDecode]


def _is_weak_secret(value: str) -> bool:
    return (
        len(value.encode()) < MIN_SECRET_BYTES
        or value.strip().lower() in _PLACEHOLDER_SECRETS
        or len(set(value)) < 8
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
        # Each setting's docstring is its description: the configuration reference is built
        # from them (docs/generate.py).
        use_attribute_docstrings=True,
    )

    environment: Literal["development", "production"] = "production"
    """`production` (needs `MONGO_URI` and a strong key) or `development` (allows the in-memory
    store and a per-process key).
    """
    host: str = "127.0.0.1"
    """Where `python main.py` listens."""
    port: int = Field(default=8000, ge=1, le=65535)
    """Where `python main.py` listens."""
    log_level: Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"] = "INFO"
    """`DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`."""
    log_format: Literal["text", "json"] = "text"
    """`text` or `json` (one JSON object per line)."""

    mongo_uri: str = MEMORY_URI
    """MongoDB connection string. Unset, empty or `memory://`: the in-memory store (nothing
    persisted).
    """
    primary_db: str = "tenantry"
    """The master database: registry, accounts, identifier claims."""
    tenant_db: str = ""
    """The default tenant database: the pool when none is configured, and where organizations
    from before placement stay. Empty: `<PRIMARY_DB>_tenants`.
    """
    # The pool of databases new organizations' tenant collections are placed in: an explicit
    # comma-separated list, or a count of databases named TENANT_DB_PREFIX + 1..N. Neither set:
    # TENANT_DB alone. Organizations keep the database recorded for them when the pool changes.
    tenant_databases: CommaSeparated = Field(default_factory=list)
    """The pool of tenant databases new organizations are placed in, comma-separated."""
    tenant_db_count: int = Field(default=0, ge=0, le=10_000)
    """Or: a pool of that many databases named prefix + `1`…`N`. Neither set: `TENANT_DB` alone.
    The prefix, when empty: `<TENANT_DB>_`.
    """
    tenant_db_prefix: str = ""
    """Or: a pool of that many databases named prefix + `1`…`N`. Neither set: `TENANT_DB` alone.
    The prefix, when empty: `<TENANT_DB>_`.
    """
    # How a new organization's database is chosen: the one holding the fewest tenant
    # collections, or a stable hash of the organization's id.
    tenant_placement: Literal["least-filled", "hash"] = "least-filled"
    """`least-filled` (fewest tenant collections) or `hash` (rendezvous hash of the organization
    id).
    """
    # Collections plus indexes, per database and per cluster, that the operator plans for;
    # capacity reports warn from CAPACITY_WARN_RATIO of a limit on.
    capacity_database_limit: int = Field(default=10_000, ge=1, le=10_000_000)
    """Collections plus indexes planned for per database and for the cluster."""
    capacity_cluster_limit: int = Field(default=100_000, ge=1, le=100_000_000)
    """Collections plus indexes planned for per database and for the cluster."""
    capacity_warn_ratio: float = Field(default=0.8, gt=0, le=1)
    """Share of a limit from which `capacity`, `verify`, the log and `/metrics` warn."""
    # How often the service counts collections and indexes for /metrics and placement.
    capacity_refresh_seconds: int = Field(default=300, ge=0, le=86_400)
    """How often the service counts collections and indexes (`0`: start-up only)."""
    mongo_timeout_ms: int = Field(default=5000, ge=100, le=120_000)
    """How long to wait for a MongoDB server before answering `503`."""
    mongo_max_pool_size: int = Field(default=100, ge=1, le=10_000)
    """Connection pool size."""
    # Durability of every write: acknowledged once on a majority of the replica set's
    # data-bearing voting members ("majority", or a number of members), and with MONGO_JOURNAL
    # once in their on-disk journal. A write that misses it within MONGO_WRITE_TIMEOUT_MS
    # fails with a write concern error (0: wait as long as it takes).
    mongo_write_concern: str = "majority"
    """Write acknowledgement: `majority` (of the replica set's data-bearing voting members) or a
    number of members, 1 or more. Overrides a `w=` in `MONGO_URI`. See *Durability*.
    """
    mongo_journal: bool = True
    """Acknowledge writes only once they are in the on-disk journal (`j`)."""
    mongo_write_timeout_ms: int = Field(default=10_000, ge=0, le=600_000)
    """How long a write waits for its write concern before failing (`wtimeout`); `0`: as long as
    it takes.
    """

    secret_key: SecretStr = SecretStr("")
    """Token signing key: at least 32 random bytes, not a known placeholder. Required with
    `ENVIRONMENT=production` on MongoDB; elsewhere a random per-process key is used.
    """
    # A file holding the key instead (a Docker secret, or the key the image's entry point
    # creates once in its volume); read when SECRET_KEY is empty.
    secret_key_file: Path | None = None
    """A file holding the signing key, read when `SECRET_KEY` is empty (setting both is refused).
    Compose sets `/data/secret_key`.
    """
    # Keys retired from signing, still accepted until the tokens they signed expire.
    previous_secret_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    """Retired signing keys, comma-separated, still accepted."""
    algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    """`HS256`, `HS384` or `HS512`."""
    token_lifetime: int = Field(default=60, ge=1, le=60 * 24 * 30, description="minutes")
    """Access token lifetime, minutes."""
    token_issuer: str = Field(default="tenantry", min_length=1)
    """The `iss` and `aud` written into and required of tokens."""
    token_audience: str = Field(default="tenantry-api", min_length=1)
    """The `iss` and `aud` written into and required of tokens."""

    # How tenant collections move on rename: "rename" (renameCollection only), "copy" (batched,
    # resumable copy), or "auto" (renameCollection, falling back to the copy when refused).
    tenant_move_strategy: Literal["auto", "rename", "copy"] = "auto"
    """How a tenant collection moves on rename: `rename` (renameCollection only), `copy`
    (batched, resumable copy), or `auto` (renameCollection, falling back to the copy when
    refused).
    """
    tenant_copy_batch_size: int = Field(default=1000, ge=1, le=100_000)
    """Documents per batch when copying."""
    # Interrupted operations older than this are completed or rolled back at start-up; younger
    # ones may still be running in another instance.
    recovery_grace_seconds: int = Field(default=120, ge=0, le=86_400)
    """Age after which an unfinished operation is settled."""
    # How often a running service sweeps for interrupted operations; 0 = only at start-up.
    recovery_interval_seconds: int = Field(default=60, ge=0, le=86_400)
    """How often a running service looks for them (`0`: start-up only)."""

    # How long a soft-deleted organization stays restorable before it is purged; 0 = purged at once.
    deleted_retention_days: int = Field(default=7, ge=0, le=3650)
    """How long an organization deleted through the versioned API
    (`DELETE /api/v1/organizations/{org_id}`) stays restorable: its collection waits in the
    trash (`trash_<identifier>_<id>`, renamed in its database), its name stays reserved, and
    its owners can `POST .../restore` it. Past it, a sweep (every
    `RECOVERY_INTERVAL_SECONDS`, in every instance) purges it for good. `0`: deleted for
    good at once, as `DELETE /org/delete` always is.
    """

    # Failed logins (and failed step-up checks) allowed per window before answering 429: per
    # account from addresses it has not logged in from lately, and per client address.
    login_window_seconds: int = Field(default=900, ge=1, le=86_400)
    """Throttling window (rolling)."""
    login_max_failures_per_account: int = Field(default=5, ge=1, le=10_000)
    """Failures allowed per window."""
    login_max_failures_per_address: int = Field(default=20, ge=1, le=100_000)
    """Failures allowed per window."""
    login_trusted_address_days: int = Field(default=30, ge=0, le=365)
    """How long a successful login exempts its address from the account limit."""
    # Organizations created (sign-ups, successful or not) per rolling hour, from one client
    # address and in all, before answering 429; 0 means no limit.
    signup_per_address_per_hour: int = Field(default=10, ge=0, le=10_000)
    """Sign-ups (`POST /org/create`, failed ones included) allowed per rolling hour from one
    client address / from everyone; `0`: no limit.
    """
    signup_total_per_hour: int = Field(default=1000, ge=0, le=10_000)
    """Sign-ups (`POST /org/create`, failed ones included) allowed per rolling hour from one
    client address / from everyone; `0`: no limit.
    """
    api_key_requests_per_minute: int = Field(default=600, ge=0, le=1_000_000)
    """Requests each organization API key may make per minute, counted in each instance of
    the service (N instances let a key make N times as many); over it, 429 with
    `Retry-After`. `0`: no limit.
    """
    custom_roles_per_organization: int = Field(default=50, ge=1, le=1000)
    """Custom roles one organization may define (beside the five built-in ones); a create
    beyond it answers 409 `role_limit_reached`. It also bounds the role list, which is
    answered whole.
    """
    max_organizations_per_account: int = Field(default=10, ge=0, le=10_000)
    """Organizations one account may create while signed in (`POST /api/v1/organizations`)
    and still have: a deleted one gives its place back, at the earliest ten minutes after it
    was created; `0`: no limit, and none are counted.
    """

    max_request_bytes: int = Field(default=1_048_576, ge=1024, le=1_073_741_824)
    """Largest request body."""
    # Empty disables CORS.
    cors_origins: CommaSeparated = Field(default_factory=list)
    """Allowed browser origins, comma-separated."""
    # Proxies whose X-Forwarded-For names the client (comma-separated addresses or networks);
    # empty: none, the connecting address is the client's.
    forwarded_allow_ips: str = ""
    """Your reverse proxies' addresses or networks, comma-separated, whose `X-Forwarded-For`
    names the client. Empty: no proxy trusted, the header is ignored. Never `*`. See "Client
    addresses and proxies".
    """

    # Plans and the members (pending invitations included) each allows; 0 means no limit.
    default_plan: Plan = Plan.FREE
    """Plan of new organizations."""
    plan_member_limits: Annotated[dict[Plan, int], NoDecode] = Field(
        default_factory=lambda: {Plan.FREE: 5, Plan.PRO: 50, Plan.ENTERPRISE: 0}
    )
    """Members (pending invitations included) per plan; 0: no limit."""

    invitation_ttl_days: int = Field(default=7, ge=1, le=90)
    """How long an invitation link works."""
    # Where invitation links point: the page of your product that accepts them.
    invitation_url_template: str = "http://127.0.0.1:8000/accept-invitation?token={token}"
    """The link sent. The default opens the service's own accept page (a password field that
    calls `POST /api/v1/invitations/accept`); point it at your product's accept page, and set
    the host to the service's public address if you keep the built-in one.
    """
    # "log" writes invitation links to the service log (development); "smtp" sends email.
    email_sender: Literal["log", "smtp"] = "log"
    """`log` (write emails to the log) or `smtp`."""
    smtp_host: str = "localhost"
    """The SMTP server for `EMAIL_SENDER=smtp`."""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    """The SMTP server for `EMAIL_SENDER=smtp`."""
    smtp_username: str = ""
    """The SMTP server for `EMAIL_SENDER=smtp`."""
    smtp_password: SecretStr = SecretStr("")
    """The SMTP server for `EMAIL_SENDER=smtp`."""
    smtp_starttls: bool = True
    """The SMTP server for `EMAIL_SENDER=smtp`."""
    smtp_from: str = "Tenantry <no-reply@localhost>"
    """The SMTP server for `EMAIL_SENDER=smtp`."""
    smtp_timeout_seconds: float = Field(default=10, gt=0, le=120)
    """Seconds to wait for the SMTP server to connect and to answer each command."""
    email_verification_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)
    """How long an email verification link works."""
    email_verification_url_template: str = "http://127.0.0.1:8000/verify-email?token={token}"
    """The link a verification email carries: your product's page that sends its `token` to
    `POST /api/v1/auth/email-verification/confirm` (the email also shows the token as a code
    to paste)."""
    email_verification_resend_seconds: int = Field(default=60, ge=0, le=86_400)
    """How long an account waits between two verification emails (`0`: no wait)."""
    email_verification_per_hour: int = Field(default=5, ge=0, le=1000)
    """Verification emails an account may ask for in an hour (`0`: no limit)."""

    # Verified domains: the DNS servers that answer for their TXT records ("host" or
    # "host:port", comma-separated; empty: the system's resolver configuration).
    dns_nameservers: CommaSeparated = Field(default_factory=list)
    """The DNS servers domain verification asks, comma-separated `host` or `host:port`;
    empty: those of the machine's resolver configuration."""
    dns_timeout_seconds: float = Field(default=5, gt=0, le=60)
    """How long one domain verification waits for DNS answers."""
    domain_recheck_interval_seconds: float = Field(default=86_400, ge=0, le=31 * 86_400)
    """How often each verified domain's TXT record is checked again; a domain whose record
    is gone loses its verified status (`0`: never checked again)."""

    # Tenant documents: largest one (BSON bytes), largest batch, deepest nesting.
    document_max_bytes: int = Field(default=262_144, ge=1024, le=16_000_000)
    """Bounds of tenant documents."""
    document_max_batch: int = Field(default=100, ge=1, le=10_000)
    """Bounds of tenant documents."""
    document_max_depth: int = Field(default=20, ge=1, le=100)
    """Bounds of tenant documents."""
    # How long a rename waits for document writes already under way before giving up (503).
    rename_drain_seconds: float = Field(default=10, gt=0, le=300)
    """How long a rename waits for document writes under way (then `503`)."""
    # Audit records are kept this long (a TTL index deletes older ones).
    audit_retention_days: int = Field(default=365, ge=1, le=3650)
    """How long audit entries are kept."""
    event_retention_days: int = Field(default=30, ge=1, le=3650)
    """How long events are kept for the pull API, redelivery and replay (a TTL on each)."""
    event_settle_seconds: int = Field(default=30, ge=0, le=86_400)
    """Age after which an event still pending (its process may have died between the change
    and the event) is settled by reading whether the change took effect; until then it holds
    back its organization's later events in the pull API."""
    event_settle_interval_seconds: float = Field(default=10, ge=0, le=86_400)
    """How often each instance looks for such events (`0`: at start-up only)."""
    invitation_expiry_sweep_seconds: float = Field(default=60, ge=0, le=86_400)
    """How often expired invitations are looked for and announced (`invitation.expired`);
    `0`: never."""
    webhook_worker: bool = True
    """Whether this instance runs the webhook delivery worker (every instance may: deliveries
    are claimed with leases, so none is attempted twice at once)."""
    webhook_allow_private_targets: bool = False
    """Allow webhook URLs that resolve to loopback, private, link-local or metadata
    addresses: for development and tests only, never in production."""
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60)
    """How long one webhook attempt may take, connection to last byte read."""
    webhook_response_max_bytes: int = Field(default=65_536, ge=1024, le=1_048_576)
    """How much of a receiver's answer is read (the rest is dropped, the connection closed)."""
    webhook_concurrency: int = Field(default=16, ge=1, le=1000)
    """Webhook attempts under way at once in this instance."""
    webhook_endpoint_concurrency: int = Field(default=2, ge=1, le=100)
    """Attempts under way at once to one endpoint from this instance."""
    webhook_disable_after_hours: float = Field(default=120, gt=0, le=8760)
    """An endpoint whose every attempt failed for this long is disabled (an event says so)."""
    webhook_poll_seconds: float = Field(default=2, gt=0, le=300)
    """How often the worker looks for due retries when nothing wakes it."""
    webhook_retention_days: int = Field(default=30, ge=1, le=3650)
    """How long deliveries and their attempt log are kept."""

    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    """bcrypt cost."""
    password_hash_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64)
    """How many passwords are hashed at once; by default one per CPU core."""
    # Scheduling priority of the hashing threads (nice value); 0 keeps them at the loop's.
    password_hash_niceness: int = Field(default=10, ge=0, le=19)
    """Scheduling priority (nice) of the hashing threads, so the event loop always wins the CPU."""

    # Set when SECRET_KEY is missing or weak where that is allowed: a per-process key.
    _generated_key: str | None = PrivateAttr(default=None)
    # Whether a production deployment on a server must have a strong SECRET_KEY; commands that
    # only read (operator reports) sign nothing and may run without one.
    _signing_key_required: ClassVar[bool] = True

    @field_validator("secret_key_file", mode="before")
    @classmethod
    def _empty_path_means_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("mongo_uri", mode="before")
    @classmethod
    def _empty_uri_means_memory(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return MEMORY_URI
        return value

    @field_validator(
        "tenant_databases", "cors_origins", "previous_secret_keys", "dns_nameservers", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("plan_member_limits", mode="before")
    @classmethod
    def _parse_member_limits(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return parse_member_limits(value)
            except ValueError:
                raise ValueError(
                    "PLAN_MEMBER_LIMITS must look like free=5,pro=50,enterprise=0"
                ) from None
        return value

    @field_validator("mongo_write_concern")
    @classmethod
    def _valid_write_concern(cls, value: str) -> str:
        value = value.strip().lower()
        if value == "majority" or (value.isdigit() and int(value) >= 1):
            return value if value == "majority" else str(int(value))
        raise ValueError(
            "must be majority or a number of members (1 or more); unacknowledged writes "
            "(0) are refused"
        )

    @field_validator("primary_db", "tenant_db")
    @classmethod
    def _valid_database_name(cls, value: str) -> str:
        if value and not is_valid_database_name(value):
            raise ValueError(_DB_NAME_RULE)
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.primary_db:
            raise ValueError("PRIMARY_DB must not be empty")
        if self.default_tenant_db.casefold() == self.primary_db.casefold():
            raise ValueError("TENANT_DB must differ from PRIMARY_DB (not only in case)")
        self._check_tenant_pool()
        self._check_database_names()
        self._read_secret_key_file()
        if (
            self._signing_key_required
            and _is_weak_secret(self.secret_key.get_secret_value())
            and not (self.in_memory or self.environment == "development")
        ):
            raise ValueError(
                f"SECRET_KEY must be a random string of at least {MIN_SECRET_BYTES} bytes "
                "(not a placeholder) when ENVIRONMENT=production and a MongoDB server is used"
            )
        if "{token}" not in self.invitation_url_template:
            raise ValueError("INVITATION_URL_TEMPLATE must contain {token}")
        if any(_is_weak_secret(key.get_secret_value()) for key in self.previous_secret_keys):
            raise ValueError(
                f"each PREVIOUS_SECRET_KEYS entry must be at least {MIN_SECRET_BYTES} random bytes"
            )
        return self

    def _read_secret_key_file(self) -> None:
        if self.secret_key_file is None:
            return
        if self.secret_key.get_secret_value():
            raise ValueError("set SECRET_KEY or SECRET_KEY_FILE, not both")
        try:
            key = self.secret_key_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeError) as exc:
            problem = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise ValueError(
                f"SECRET_KEY_FILE {self.secret_key_file} cannot be read ({problem})"
            ) from None
        self.secret_key = SecretStr(key)

    def _check_tenant_pool(self) -> None:
        if self.tenant_databases and self.tenant_db_count:
            raise ValueError("set TENANT_DATABASES or TENANT_DB_COUNT, not both")
        pool = self.tenant_pool
        for name in pool:
            if not is_valid_database_name(name):
                raise ValueError(f"tenant database {name!r} {_DB_NAME_RULE}")
        if any(name.casefold() == self.primary_db.casefold() for name in pool):
            raise ValueError("the tenant databases must not include PRIMARY_DB")
        if len(set(pool)) != len(pool):
            raise ValueError("TENANT_DATABASES names a database twice")

    def _check_database_names(self) -> None:
        named = {
            "PRIMARY_DB": self.primary_db,
            "TENANT_DB": self.default_tenant_db,
            **{f"tenant database {name!r}": name for name in self.tenant_pool},
        }
        for setting, name in named.items():
            if is_reserved_database(name):
                raise ValueError(
                    f"{setting} must not be {name!r}: admin, local and config are MongoDB's own "
                    "databases"
                )
            variant = case_variant_among(name, named.values())
            if variant is not None:
                raise ValueError(
                    f"{setting} {name!r} and {variant!r} differ only in case, which MongoDB "
                    "refuses (DatabaseDifferCase): name them differently"
                )

    @property
    def default_tenant_db(self) -> str:
        """TENANT_DB, or `<PRIMARY_DB>_tenants`: where organizations recorded before placement
        keep their collections, and the whole pool when no other is configured."""
        if self.tenant_db:
            return self.tenant_db
        suffix = "_tenants"
        return self.primary_db[: MAX_DB_NAME_BYTES - len(suffix)] + suffix

    @property
    def tenant_pool(self) -> tuple[str, ...]:
        """The databases new organizations are placed in, in a stable order."""
        if self.tenant_databases:
            return tuple(self.tenant_databases)
        if self.tenant_db_count:
            prefix = self.tenant_db_prefix or self.default_tenant_db[: MAX_DB_NAME_BYTES - 6] + "_"
            return tuple(f"{prefix}{n}" for n in range(1, self.tenant_db_count + 1))
        return (self.default_tenant_db,)

    def signing_keys(self) -> list[str]:
        """The current key first, then the retired ones still accepted."""
        current = self.secret_key.get_secret_value()
        if _is_weak_secret(current):
            # Made once per settings object, so every token codec built from it agrees.
            if self._generated_key is None:
                self._generated_key = secrets.token_urlsafe(48)
            current = self._generated_key
        return [current, *(key.get_secret_value() for key in self.previous_secret_keys)]

    @property
    def write_concern_w(self) -> int | str:
        """MONGO_WRITE_CONCERN as the driver takes it: "majority" or a number."""
        value = self.mongo_write_concern
        return value if value == "majority" else int(value)

    @property
    def plans(self) -> Plans:
        return Plans(self.default_plan, self.plan_member_limits)

    @property
    def in_memory(self) -> bool:
        return self.mongo_uri.strip().lower() == MEMORY_URI

    @property
    def secret_key_generated(self) -> bool:
        """True when SECRET_KEY was missing or weak and a per-process key replaced it."""
        return _is_weak_secret(self.secret_key.get_secret_value())


class ConfigurationError(Exception):
    """The environment does not describe a service that can start; the message says why."""


class _ReadOnlySettings(Settings):
    """Settings for work that signs nothing: a weak or missing SECRET_KEY is not checked."""

    _signing_key_required: ClassVar[bool] = False


IN_MEMORY_REFUSED = (
    "MONGO_URI is not set: with ENVIRONMENT=production Tenantry needs a MongoDB server. Set "
    "MONGO_URI (e.g. mongodb://localhost:27017), or ENVIRONMENT=development to try it on the "
    "in-memory store, which keeps nothing."
)


def load_settings(
    *, signing: bool = True, mongo_uri: str | None = None, store_given: bool = False
) -> Settings:
    """The settings of the environment and `.env`, checked as a deployment needs them.

    Production refuses the in-memory store: a service that forgets everything on restart must
    be asked for (`store_given`: the caller brings its own store, so MONGO_URI means
    nothing). `signing=False` is for read-only work, which needs no SECRET_KEY; `mongo_uri`
    takes the place of MONGO_URI (the operator's `--uri`).
    """
    kind = Settings if signing else _ReadOnlySettings
    try:
        settings = kind() if mongo_uri is None else kind(mongo_uri=mongo_uri)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper() or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None
    if settings.environment == "production" and settings.in_memory and not store_given:
        raise ConfigurationError(IN_MEMORY_REFUSED)
    return settings


class ExplicitSettings(Settings):
    """Settings from keyword arguments only: the environment and `.env` are ignored.

    For code that builds a service on purpose (tests, benchmarks) and must not pick up a
    developer's configuration by accident.
    """

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)
