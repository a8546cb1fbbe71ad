"""The ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from models.secrets import SecretBox
from resolvers.api_keys import Authenticator
from switchboard.audit_retention import AuditRetention
from switchboard.db import committed_migrations, tortoise_config
from switchboard.health_changes import HealthChangeListener
from switchboard.http import health
from switchboard.http.auth import Gate
from switchboard.http.cors import cors
from switchboard.http.graphiql import graphiql_html
from switchboard.http.limits import BodySizeLimit
from switchboard.http.middleware import RequestLogMiddleware
from switchboard.http.persisted import PersistedDocuments
from switchboard.http.rate_limit import RateLimiter, RateLimitStorage
from switchboard.http.view import GraphQLView
from switchboard.keys.changes import KeyChangeListener
from switchboard.keys.encryption import encryption_keys
from switchboard.monitor import Monitor
from switchboard.rest import api_keys as rest_api_keys
from switchboard.rest import audit as rest_audit
from switchboard.rest import phone_numbers as rest_phone_numbers
from switchboard.settings import Settings


def rate_limiters(settings: Settings, storage: RateLimitStorage) -> tuple[RateLimiter, RateLimiter]:
    """Cost units per API key, for GraphQL and REST alike; requests without a valid key per client address.

    Both in `storage`: this worker's memory, or Redis shared by every worker.
    """
    keys = RateLimiter("key", settings.rate_limit, settings.rate_limit_burst, storage)
    per_minute = settings.unauthenticated_rate_limit
    addresses = RateLimiter("address", per_minute / 60, per_minute, storage)
    return keys, addresses


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    secrets = SecretBox(encryption_keys(settings))
    authenticator = Authenticator(settings.api_key_cache_seconds)
    counters = RateLimitStorage(settings.rate_limit_storage)
    gate = Gate(authenticator, *rate_limiters(settings, counters))
    # GraphiQL sends documents of its own, which a server of trusted documents only refuses.
    page = None if settings.is_production or settings.trusted_documents_only else graphiql_html(settings.graphiql_cdn)
    graphql = GraphQLView(
        settings.schema,
        secrets,
        gate,
        settings.policy,
        graphiql_html=page,
        allowed_origins=tuple(settings.cors_origins),
        persisted_documents=PersistedDocuments(settings.manifest, trusted_only=settings.trusted_documents_only),
        compiled_execution=settings.compiled_execution,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            # SQLite serves from one process, which forgets a key it revokes
            # itself; other processes' revocations wait out the short fallback.
            listener = None if settings.is_sqlite else KeyChangeListener(settings.database_url, authenticator)
            if listener is not None:
                await listener.start()
            # On SQLite record_check hands events to this process's subscribers itself.
            health_changes = None if settings.is_sqlite else HealthChangeListener(settings.database_url)
            if health_changes is not None:
                await health_changes.start()
            retention = AuditRetention(settings.audit_retention_days)
            retention.start()
            monitor = Monitor(settings, secrets) if settings.health_interval else None
            if monitor is not None:
                monitor.start()
            await counters.start()
            try:
                yield
            finally:
                if monitor is not None:
                    await monitor.stop()
                if health_changes is not None:
                    await health_changes.stop()
                await retention.stop()
                if listener is not None:
                    await listener.stop()
                await counters.close()
                await authenticator.close()

    return Starlette(
        routes=[
            Route("/graphql", graphql),
            *rest_phone_numbers.routes(secrets, gate, settings.policy),
            # Subscriptions: graphql-transport-ws on the same path.
            WebSocketRoute("/graphql", graphql),
            *rest_api_keys.routes(secrets, gate, settings.policy),
            *rest_audit.routes(secrets, gate, settings.policy),
            Route("/healthz", health.healthz),
            Route("/readyz", health.readyz(committed_migrations(), counters.check)),
        ],
        # Outermost first: the client's address is known to all; refusals below are logged, and
        # carry CORS headers a browser can read.
        middleware=[
            Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies)),
            Middleware(RequestLogMiddleware),
            cors(settings),
            Middleware(BodySizeLimit),
        ],
        lifespan=lifespan,
    )
