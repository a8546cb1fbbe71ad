"""The ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from models.secrets import SecretBox
from resolvers.api_keys import Authenticator
from schema import create_schema
from switchboard import health, rest, rest_api_keys, rest_audit
from switchboard.audit_retention import AuditRetention
from switchboard.cors import cors
from switchboard.db import committed_migrations, tortoise_config
from switchboard.graphiql import graphiql_html
from switchboard.http import GraphQLView, RequestLogMiddleware
from switchboard.key_changes import KeyChangeListener
from switchboard.keys import encryption_keys
from switchboard.limits import BodySizeLimit
from switchboard.rate_limit import RateLimiter
from switchboard.settings import Settings


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    secrets = SecretBox(encryption_keys(settings))
    authenticator = Authenticator(settings.api_key_cache_seconds)
    # One bucket per key for GraphQL and REST alike, in this worker.
    rate_limiter = RateLimiter(settings.rate_limit, settings.rate_limit_burst)
    schema = create_schema(suggestions=not settings.is_production, introspection=settings.introspection)
    page = None if settings.is_production else graphiql_html(settings.graphiql_cdn)
    graphql = GraphQLView(schema, secrets, authenticator, rate_limiter, settings.policy, graphiql_html=page)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            # SQLite serves from one process, which forgets a key it revokes
            # itself; other processes' revocations wait out the short fallback.
            listener = None if settings.is_sqlite else KeyChangeListener(settings.database_url, authenticator)
            if listener is not None:
                await listener.start()
            retention = AuditRetention(settings.audit_retention_days)
            retention.start()
            try:
                yield
            finally:
                await retention.stop()
                if listener is not None:
                    await listener.stop()
                await authenticator.close()

    return Starlette(
        routes=[
            Route("/graphql", graphql),
            *rest.routes(secrets, authenticator, rate_limiter, settings.policy),
            *rest_api_keys.routes(secrets, authenticator, rate_limiter, settings.policy),
            *rest_audit.routes(secrets, authenticator, rate_limiter, settings.policy),
            Route("/healthz", health.healthz),
            Route("/readyz", health.readyz(committed_migrations())),
        ],
        # Outermost first: refusals below are logged, and carry CORS headers a browser can read.
        middleware=[Middleware(RequestLogMiddleware), cors(settings), Middleware(BodySizeLimit)],
        lifespan=lifespan,
    )
