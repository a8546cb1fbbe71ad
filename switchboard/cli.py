"""The `switchboard` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as apply_migrations

from models.secrets import generate_key
from switchboard.db import tortoise_config
from switchboard.settings import Settings

log = logging.getLogger("switchboard")

ORGANIZATION_NAME_MAX_LENGTH = 100


async def migrate(settings: Settings) -> None:
    try:
        await apply_migrations(config=tortoise_config(settings.database_url))
    finally:
        await Tortoise.close_connections()


async def create_api_key(settings: Settings, organization: str) -> str:
    from resolvers.api_keys import issue_key

    await migrate(settings)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        issued = await issue_key(organization)
    finally:
        await Tortoise.close_connections()
    return issued.key


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    asyncio.run(migrate(settings))
    uvicorn.run("switchboard.app:create_app", factory=True, host=host, port=port, log_level="info")


def _organization_name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > ORGANIZATION_NAME_MAX_LENGTH:
        raise argparse.ArgumentTypeError(f"organization name must be 1 to {ORGANIZATION_NAME_MAX_LENGTH} characters")
    return name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description="Phone numbers for voice-AI agents, over GraphQL.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply pending migrations, then serve /graphql")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    commands.add_parser("migrate", help="apply pending database migrations")
    commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")

    key = commands.add_parser("create-api-key", help="create an API key (and the organization if needed)")
    key.add_argument("--org", required=True, type=_organization_name, help="organization name")

    commands.add_parser("generate-encryption-key", help="print a new key for SWITCHBOARD_ENCRYPTION_KEYS")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.command == "export-schema":
        from schema import schema

        sys.stdout.write(schema.as_str() + "\n")
        return
    if args.command == "generate-encryption-key":
        print(generate_key())
        return

    settings = Settings.from_env()
    if args.command == "serve":
        _serve(settings, args.host, args.port)
    elif args.command == "migrate":
        asyncio.run(migrate(settings))
        print("migrations applied")
    elif args.command == "create-api-key":
        key = asyncio.run(create_api_key(settings, args.org))
        print(f"API key for organization {args.org!r} (shown once; store it now):", file=sys.stderr)
        print(key)


if __name__ == "__main__":
    main()
