"""Configuration, read once from the environment into one typed object."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import validators

from resolvers.context import DEFAULT_MAX_AGENTS, DEFAULT_MAX_PHONE_NUMBERS, Policy
from resolvers.verification import CheckOptions
from resolvers.verification.results import DEFAULT_TIMEOUT as DEFAULT_VERIFY_TIMEOUT
from resolvers.verification.results import DEFAULT_TWILIO_API_URL, tls_context
from schema import Schema, create_schema
from schema.limits import DEFAULT_MAX_QUERY_COST, largest_charge
from switchboard.http.persisted import ManifestError, load_manifest

DEFAULT_DATA_DIR = Path("data")
DATABASE_SCHEMES = {"sqlite": "sqlite", "postgres": "postgres", "postgresql": "postgres"}
MAX_WORKERS = 64
LOG_FORMATS = ("json", "text")
# Loopback only: serving every interface is a choice made out loud (SWITCHBOARD_HOST=0.0.0.0).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_PORT = 65535
HOST_RULE = "must be an IP address or host name to listen on, such as 127.0.0.1, 0.0.0.0, :: or localhost"
DEFAULT_SHUTDOWN_TIMEOUT = 20.0
DEFAULT_API_KEY_CACHE_SECONDS = 30.0
# Serves every npm package's files at /<package>@<version>/<file>.
DEFAULT_GRAPHIQL_CDN = "https://unpkg.com"
# Per API key and per worker process, in cost units: a second's worth, and how many
# may be spent at once (at least what one request may cost).
DEFAULT_RATE_LIMIT = 5_000.0
DEFAULT_RATE_LIMIT_BURST = 50_000
MAX_RATE_LIMIT_BURST = 100_000_000
MAX_QUERY_COST = 1_000_000
# Per client address and per worker process: requests a minute without a valid API key.
DEFAULT_UNAUTHENTICATED_RATE_LIMIT = 60
MAX_UNAUTHENTICATED_RATE_LIMIT = 1_000_000
MAX_ROWS_PER_ORGANIZATION = 10_000_000
# Where rate limit counters are kept: each worker's memory, or Redis, shared by all.
DEFAULT_RATE_LIMIT_STORAGE = "memory://"
REDIS_SCHEMES = ("redis", "rediss")
# The HTTP server's own limits, per worker process (see switchboard/http/protocol.py).
# Room for a GET carrying the longest query the GraphQL limits accept, percent-encoded.
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
MIN_HEADER_BYTES, MAX_HEADER_BYTES = 1024, 1024 * 1024
DEFAULT_CLIENT_TIMEOUT = 10.0
DEFAULT_MAX_CONNECTIONS = 1000
MAX_CONNECTIONS = 1_000_000
DEFAULT_AUDIT_RETENTION_DAYS = 365
# A hundred years: "keep everything" without a special value.
MAX_AUDIT_RETENTION_DAYS = 36_500
# Provider checks (resolvers/verification) and monitoring (switchboard/monitor.py).
MAX_VERIFY_TIMEOUT = 60.0
DEFAULT_HEALTH_INTERVAL = 300
MAX_HEALTH_INTERVAL = 7 * 24 * 3600
DEFAULT_HEALTH_FAILURES = 3
DEFAULT_HEALTH_RECOVERIES = 2
MAX_HEALTH_STREAK = 100
DEFAULT_HEALTH_CONCURRENCY = 10
MAX_HEALTH_CONCURRENCY = 1000


class SettingsError(ValueError):
    """An environment variable holds a value Switchboard cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    # Comma-separated keys; the first one encrypts, all of them decrypt.
    encryption_keys: tuple[str, ...]
    environment: str = "development"
    workers: int = 1
    # Seconds a stopping server gives requests in flight before it cuts them off.
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    # "json" or "text"; None leaves it to switchboard/logs.py: text for a person at a terminal, JSON otherwise.
    log_format: str | None = None
    # Where `serve` listens; its --host and --port override these.
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    # Where the GraphiQL page loads its scripts from: a CDN of npm packages or a mirror of one.
    graphiql_cdn: str = DEFAULT_GRAPHIQL_CDN
    # How long a worker trusts a key it has checked while notifications tell it of revocations
    # (resolvers/api_keys.py); a key deleted by hand works that much longer.
    api_key_cache_seconds: float = DEFAULT_API_KEY_CACHE_SECONDS
    introspection: bool = True
    # Known documents' operations compiled once into plans of their fields and run on those
    # (switchboard/http/compiler/); False runs every operation on graphql-core's executor.
    compiled_execution: bool = True
    # Origins whose web pages may call the API from a browser; "*" for any.
    cors_origins: tuple[str, ...] = ()
    rate_limit: float = DEFAULT_RATE_LIMIT
    rate_limit_burst: int = DEFAULT_RATE_LIMIT_BURST
    max_query_cost: int = DEFAULT_MAX_QUERY_COST
    unauthenticated_rate_limit: int = DEFAULT_UNAUTHENTICATED_RATE_LIMIT
    # memory:// or redis(s)://[[user]:password@]host[:port][/db]; the URL may carry a password, so no repr shows it.
    rate_limit_storage: str = field(default=DEFAULT_RATE_LIMIT_STORAGE, repr=False)
    # Proxies whose X-Forwarded-For names the client: addresses or networks (CIDR).
    trusted_proxies: tuple[str, ...] = ()
    # SIP targets on loopback, link-local and similar addresses: development and tests only.
    allow_local_targets: bool = False
    max_phone_numbers_per_organization: int = DEFAULT_MAX_PHONE_NUMBERS
    max_agents_per_organization: int = DEFAULT_MAX_AGENTS
    # Bytes of one request's line and headers, together.
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    # Seconds the server waits on a client: for a whole request, or to take in a response.
    client_timeout: float = DEFAULT_CLIENT_TIMEOUT
    # Open connections per worker process; more are answered 503.
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    # Audit events older than this are deleted by every server, in small batches (switchboard/audit_retention.py).
    audit_retention_days: int = DEFAULT_AUDIT_RETENTION_DAYS
    # Seconds one provider check may take, end to end (verifyPhoneNumber, `verify: true`, monitoring).
    verify_timeout: float = DEFAULT_VERIFY_TIMEOUT
    # Where Twilio checks look numbers up: Twilio's API, or a stand-in in tests.
    twilio_api_url: str = DEFAULT_TWILIO_API_URL
    # PEM certificates trusted beside the system's store for SIP over TLS and the Twilio API (a private CA).
    verify_ca_file: str | None = None
    # Seconds between two monitored checks of a number; 0: no monitoring.
    health_interval: int = DEFAULT_HEALTH_INTERVAL
    # Hysteresis: consecutive failures that take an OK number out of OK, successes that bring it back.
    health_failures: int = DEFAULT_HEALTH_FAILURES
    health_recoveries: int = DEFAULT_HEALTH_RECOVERIES
    # Checks one worker process runs at once.
    health_concurrency: int = DEFAULT_HEALTH_CONCURRENCY
    # A manifest of persisted documents (switchboard/http/persisted.py), known from start-up.
    persisted_documents: Path | None = None
    # Only the manifest's documents run.
    trusted_documents_only: bool = False
    # The manifest's documents by their SHA-256, read from `persisted_documents` and checked.
    manifest: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The URL may carry a password: messages name its scheme only.
        scheme = urlsplit(self.database_url).scheme
        if scheme not in DATABASE_SCHEMES:
            raise SettingsError(f"DATABASE_URL must start with sqlite:// or postgres:// (got scheme {scheme!r})")
        if self.workers > 1 and self.is_sqlite:
            raise SettingsError(
                f"SWITCHBOARD_WORKERS is {self.workers}, but SQLite serves from one worker process only: "
                "processes sharing one SQLite file queue behind each other's write locks. "
                "For several workers or hosts, set DATABASE_URL to a PostgreSQL database (postgres://...)"
            )
        if self.rate_limit_burst < (needed := largest_charge(self.max_query_cost)):
            raise SettingsError(
                f"SWITCHBOARD_RATE_LIMIT_BURST ({self.rate_limit_burst}) must be at least {needed}, what one "
                "request may "
                f"cost with SWITCHBOARD_MAX_QUERY_COST at {self.max_query_cost}: else some requests could never run"
            )
        _check_rate_limit_storage(self.rate_limit_storage)
        object.__setattr__(self, "manifest", self._manifest())

    def _manifest(self) -> dict[str, str]:
        """The manifest's documents, each with a plan made for this server's schema; refused if any has none."""
        name = "SWITCHBOARD_PERSISTED_DOCUMENTS"
        if self.persisted_documents is None:
            if self.trusted_documents_only:
                raise SettingsError(
                    f"SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY is true, but {name} is not set: "
                    "set it to the manifest of the documents to run (persisted-documents.json)"
                )
            return {}
        try:
            manifest = load_manifest(self.persisted_documents)
        except ManifestError as error:
            raise SettingsError(f"{name}: {error}") from None
        schema = self._schema(frozenset(manifest.values()))
        for digest, document in manifest.items():
            plan = schema.documents.known(document)
            assert plan is not None, "create_schema made the plan of every pinned document"
            if plan.errors:
                raise SettingsError(
                    f"{name}: {self.persisted_documents}: the document sha256:{digest} cannot run on this server: "
                    f"{plan.errors[0].message}"
                )
        return manifest

    def _schema(self, pinned: frozenset[str]) -> Schema:
        return create_schema(
            suggestions=not self.is_production,
            introspection=self.introspection,
            max_query_cost=self.max_query_cost,
            pinned=pinned,
        )

    @property
    def schema(self) -> Schema:
        """The GraphQL schema these settings serve: its limits, and the manifest's plans made."""
        return self._schema(frozenset(self.manifest.values()))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("SWITCHBOARD_DATA_DIR", str(DEFAULT_DATA_DIR)))
        database_url = env.get("DATABASE_URL", "").strip() or _default_database_url(data_dir)
        keys = tuple(k.strip() for k in env.get("SWITCHBOARD_ENCRYPTION_KEYS", "").split(",") if k.strip())
        return cls(
            database_url=database_url,
            data_dir=data_dir,
            encryption_keys=keys,
            environment=_choice(env, "SWITCHBOARD_ENV", ("development", "production"), "development"),
            workers=_whole_number(env, "SWITCHBOARD_WORKERS", 1, MAX_WORKERS, default=1),
            shutdown_timeout=_positive(env, "SWITCHBOARD_SHUTDOWN_TIMEOUT", "seconds", DEFAULT_SHUTDOWN_TIMEOUT),
            log_format=_optional_choice(env, "SWITCHBOARD_LOG_FORMAT", LOG_FORMATS),
            host=_host(env, "SWITCHBOARD_HOST"),
            port=_whole_number(env, "SWITCHBOARD_PORT", 1, MAX_PORT, default=DEFAULT_PORT),
            graphiql_cdn=_graphiql_cdn(env.get("SWITCHBOARD_GRAPHIQL_CDN", "")),
            api_key_cache_seconds=_positive(
                env, "SWITCHBOARD_API_KEY_CACHE_SECONDS", "seconds", DEFAULT_API_KEY_CACHE_SECONDS, allow_zero=True
            ),
            introspection=_choice(env, "SWITCHBOARD_INTROSPECTION", ("true", "false"), "true") == "true",
            compiled_execution=_choice(env, "SWITCHBOARD_COMPILED_EXECUTION", ("true", "false"), "true") == "true",
            cors_origins=_origins(env, "SWITCHBOARD_CORS_ORIGINS"),
            rate_limit=_positive(env, "SWITCHBOARD_RATE_LIMIT", "cost units per second", DEFAULT_RATE_LIMIT),
            rate_limit_burst=_whole_number(
                env, "SWITCHBOARD_RATE_LIMIT_BURST", 1, MAX_RATE_LIMIT_BURST, default=DEFAULT_RATE_LIMIT_BURST
            ),
            max_query_cost=_whole_number(
                env, "SWITCHBOARD_MAX_QUERY_COST", 1, MAX_QUERY_COST, default=DEFAULT_MAX_QUERY_COST
            ),
            unauthenticated_rate_limit=_whole_number(
                env,
                "SWITCHBOARD_UNAUTHENTICATED_RATE_LIMIT",
                1,
                MAX_UNAUTHENTICATED_RATE_LIMIT,
                default=DEFAULT_UNAUTHENTICATED_RATE_LIMIT,
            ),
            rate_limit_storage=env.get("SWITCHBOARD_RATE_LIMIT_STORAGE", "").strip() or DEFAULT_RATE_LIMIT_STORAGE,
            trusted_proxies=_networks(env, "SWITCHBOARD_TRUSTED_PROXIES"),
            allow_local_targets=_choice(env, "SWITCHBOARD_ALLOW_LOCAL_TARGETS", ("true", "false"), "false") == "true",
            max_phone_numbers_per_organization=_whole_number(
                env,
                "SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION",
                1,
                MAX_ROWS_PER_ORGANIZATION,
                default=DEFAULT_MAX_PHONE_NUMBERS,
            ),
            max_agents_per_organization=_whole_number(
                env, "SWITCHBOARD_MAX_AGENTS_PER_ORGANIZATION", 1, MAX_ROWS_PER_ORGANIZATION, default=DEFAULT_MAX_AGENTS
            ),
            max_header_bytes=_whole_number(
                env,
                "SWITCHBOARD_MAX_HEADER_BYTES",
                MIN_HEADER_BYTES,
                MAX_HEADER_BYTES,
                default=DEFAULT_MAX_HEADER_BYTES,
            ),
            client_timeout=_positive(env, "SWITCHBOARD_CLIENT_TIMEOUT", "seconds", DEFAULT_CLIENT_TIMEOUT),
            max_connections=_whole_number(
                env, "SWITCHBOARD_MAX_CONNECTIONS", 1, MAX_CONNECTIONS, default=DEFAULT_MAX_CONNECTIONS
            ),
            audit_retention_days=_whole_number(
                env,
                "SWITCHBOARD_AUDIT_RETENTION_DAYS",
                1,
                MAX_AUDIT_RETENTION_DAYS,
                default=DEFAULT_AUDIT_RETENTION_DAYS,
            ),
            verify_timeout=_verify_timeout(env, "SWITCHBOARD_VERIFY_TIMEOUT"),
            twilio_api_url=_base_url(
                env, "SWITCHBOARD_TWILIO_API_URL", DEFAULT_TWILIO_API_URL, "https://api.twilio.com"
            ),
            verify_ca_file=_ca_file(env, "SWITCHBOARD_VERIFY_CA_FILE"),
            health_interval=_whole_number(
                env, "SWITCHBOARD_HEALTH_INTERVAL", 0, MAX_HEALTH_INTERVAL, default=DEFAULT_HEALTH_INTERVAL
            ),
            health_failures=_whole_number(
                env, "SWITCHBOARD_HEALTH_FAILURES", 1, MAX_HEALTH_STREAK, default=DEFAULT_HEALTH_FAILURES
            ),
            health_recoveries=_whole_number(
                env, "SWITCHBOARD_HEALTH_RECOVERIES", 1, MAX_HEALTH_STREAK, default=DEFAULT_HEALTH_RECOVERIES
            ),
            health_concurrency=_whole_number(
                env, "SWITCHBOARD_HEALTH_CONCURRENCY", 1, MAX_HEALTH_CONCURRENCY, default=DEFAULT_HEALTH_CONCURRENCY
            ),
            persisted_documents=Path(path)
            if (path := env.get("SWITCHBOARD_PERSISTED_DOCUMENTS", "").strip())
            else None,
            trusted_documents_only=_choice(env, "SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY", ("true", "false"), "false")
            == "true",
        )

    @property
    def policy(self) -> Policy:
        return Policy(
            allow_local_targets=self.allow_local_targets,
            max_phone_numbers=self.max_phone_numbers_per_organization,
            max_agents=self.max_agents_per_organization,
            checks=self.check_options,
        )

    @property
    def check_options(self) -> CheckOptions:
        """How provider checks run, for every caller of resolvers/verification (API and monitor alike)."""
        return CheckOptions(
            timeout=self.verify_timeout,
            allow_local_targets=self.allow_local_targets,
            twilio_api_url=self.twilio_api_url,
            tls_ca_file=self.verify_ca_file,
        )

    @property
    def database(self) -> str:
        """`sqlite` or `postgres`."""
        return DATABASE_SCHEMES[urlsplit(self.database_url).scheme]

    @property
    def is_sqlite(self) -> bool:
        return self.database == "sqlite"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def _default_database_url(data_dir: Path) -> str:
    return f"sqlite://{data_dir / 'switchboard.sqlite3'}"


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.get(name, "").strip() or default
    if value not in choices:
        raise SettingsError(f"{name} must be {' or '.join(repr(c) for c in choices)}, got {value!r}")
    return value


def _optional_choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    if not env.get(name, "").strip():
        return None
    return _choice(env, name, choices, choices[0])


def _host(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip() or DEFAULT_HOST
    if not is_host(value):
        raise SettingsError(f"{name} {HOST_RULE}, got {value!r}")
    return value


def is_host(value: str) -> bool:
    """An address `serve` may be told to listen on: an IP address (IPv6 without brackets) or a host name."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return validators.hostname(value, may_have_port=False) is True
    return True


def _whole_number(env: Mapping[str, str], name: str, low: int, high: int, *, default: int) -> int:
    value = env.get(name, "").strip() or str(default)
    # ASCII digits only: str.isdigit() also passes "²", which int() refuses.
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def _positive(env: Mapping[str, str], name: str, unit: str, default: float, *, allow_zero: bool = False) -> float:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not (number >= 0 if allow_zero else number > 0) or number == float("inf"):
        bound = "0 or more" if allow_zero else "greater than 0"
        raise SettingsError(f"{name} must be a number of {unit} {bound}, got {value!r}")
    return number


def _check_rate_limit_storage(url: str) -> None:
    """memory:// or a Redis URL. Messages quote nothing of the value: a mistyped one may hold a password."""
    name = "SWITCHBOARD_RATE_LIMIT_STORAGE"
    example = "redis://[:password@]host[:port][/db] (rediss:// for TLS; / ? # @ in a password percent-encoded)"
    parts = urlsplit(url)
    if url == DEFAULT_RATE_LIMIT_STORAGE:
        return
    if parts.scheme not in REDIS_SCHEMES or not url.startswith(f"{parts.scheme}://"):
        raise SettingsError(
            f"{name} must be memory:// or a Redis URL, {example}; the value set is neither (not shown: it "
            "may hold a password)"
        )
    if not parts.hostname:
        raise SettingsError(f"{name}: a {parts.scheme}:// URL names a host, as in {example}")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise SettingsError(f"{name}: the port of a {parts.scheme}:// URL is a number from 1 to 65535, as in {example}")
    if parts.path not in ("", "/") and not (parts.path[1:].isdigit() and parts.path[1:].isascii()):
        raise SettingsError(f"{name}: the path of a {parts.scheme}:// URL is a database number, as in {example}")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise SettingsError(
            f"{name} takes no options after ? or #: Switchboard sets Redis' timeouts itself; as in {example}"
        )


def _verify_timeout(env: Mapping[str, str], name: str) -> float:
    value = _positive(env, name, "seconds", DEFAULT_VERIFY_TIMEOUT)
    if value > MAX_VERIFY_TIMEOUT:
        raise SettingsError(
            f"{name} must be a number of seconds greater than 0 and at most {MAX_VERIFY_TIMEOUT:g}, got {value:g}"
        )
    return value


def _base_url(env: Mapping[str, str], name: str, default: str, example: str) -> str:
    base = env.get(name, "").strip().rstrip("/") or default
    url = urlsplit(base)
    if url.scheme not in {"http", "https"} or not url.hostname or url.path or url.query or url.fragment or url.username:
        raise SettingsError(
            f"{name} must be an http(s) URL of a host, without a path, query or user, e.g. {example}; got {base!r}"
        )
    try:
        # Reading the port parses it: urlsplit raises ValueError only then, for one outside 0-65535 or not a number.
        _ = url.port
    except ValueError:
        raise SettingsError(f"{name}: the port must be a number from 1 to 65535, got {base!r}") from None
    return base


def _ca_file(env: Mapping[str, str], name: str) -> str | None:
    """A PEM file of CA certificates, loaded now: a wrong path fails at start-up, not at the first check."""
    path = env.get(name, "").strip()
    if not path:
        return None
    try:
        tls_context(path)
    except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
        raise SettingsError(f"{name} must name a readable file of PEM CA certificates; {path!r}: {error}") from None
    return path


def _graphiql_cdn(value: str) -> str:
    base = value.strip().rstrip("/") or DEFAULT_GRAPHIQL_CDN
    url = urlsplit(base)
    if url.scheme not in {"http", "https"} or not url.netloc or url.query or url.fragment:
        raise SettingsError(
            "SWITCHBOARD_GRAPHIQL_CDN must be an http(s) URL without query, e.g. https://npm.example.com/cdn"
        )
    return base


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    origins = tuple(o.strip() for o in env.get(name, "").split(",") if o.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if origin != "*" and not (
            parts.scheme in ("http", "https") and parts.netloc and origin == f"{parts.scheme}://{parts.netloc}"
        ):
            raise SettingsError(
                f"{name} must list origins such as https://app.example.com (scheme and host, no path), "
                f"comma-separated, or *; got {origin!r}"
            )
    return origins


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDR networks, each in its canonical form."""
    networks = []
    for item in (i.strip() for i in env.get(name, "").split(",")):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(
                f"{name} must list IP addresses or networks such as 10.0.0.0/8 or 2001:db8::/32, "
                f"comma-separated; got {item!r}"
            ) from None
    return tuple(networks)
