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
from schema import schema
from switchboard import health, rest
from switchboard.db import committed_migrations, tortoise_config
from switchboard.graphiql import graphiql_html
from switchboard.http import GraphQLView, RequestLogMiddleware
from switchboard.keys import encryption_keys
from switchboard.settings import Settings


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    secrets = SecretBox(encryption_keys(settings))
    authenticator = Authenticator(settings.api_key_cache_seconds)
    graphql = GraphQLView(schema, secrets, authenticator, graphiql_html=graphiql_html(settings.graphiql_cdn))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            yield

    return Starlette(
        routes=[
            Route("/graphql", graphql),
            *rest.routes(secrets, authenticator),
            Route("/healthz", health.healthz),
            Route("/readyz", health.readyz(committed_migrations())),
        ],
        middleware=[Middleware(RequestLogMiddleware)],
        lifespan=lifespan,
    )
