"""The `switchboard` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import signal
import sys
from collections.abc import Sequence

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as apply_migrations

from models.secrets import SecretBox, SecretDecryptionError, SecretKeyError, generate_key
from resolvers.key_rotation import DEFAULT_BATCH_SIZE, reseal_secrets
from switchboard.db import migration_lock, tortoise_config
from switchboard.logs import log_config
from switchboard.settings import Settings, SettingsError

log = logging.getLogger("switchboard")

ORGANIZATION_NAME_MAX_LENGTH = 100


class CommandError(Exception):
    """A command cannot run as asked; its message says why and what to do."""


async def migrate(settings: Settings) -> None:
    async with migration_lock(settings.database_url):
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


async def rotate_encryption_key(settings: Settings, batch_size: int) -> tuple[int, str]:
    """Re-encrypt every stored secret with the first key; return the count and that key's id."""
    if not settings.encryption_keys:
        raise CommandError(
            "SWITCHBOARD_ENCRYPTION_KEYS is not set: list the new key first, then every key "
            "stored secrets may still be sealed with (comma-separated)"
        )
    box = SecretBox(settings.encryption_keys)
    total = 0
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        async for count in reseal_secrets(box, batch_size=batch_size):
            total += count
            log.info("re-encrypted %d secrets in a batch of up to %d rows", count, batch_size)
    except SecretDecryptionError as error:
        raise CommandError(f"{error}; add the key it was sealed with to SWITCHBOARD_ENCRYPTION_KEYS and run again") from error
    finally:
        await Tortoise.close_connections()
    return total, box.primary_key_id


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    asyncio.run(migrate(settings))
    # After a graceful stop uvicorn raises the stopping signal again, to exit
    # by it, while with several workers its supervisor exits 0. A stop that
    # went as asked exits 0 in both cases: the raised SIGTERM meets this no-op.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    uvicorn.run(
        "switchboard.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=settings.workers,
        timeout_graceful_shutdown=settings.shutdown_timeout,
        log_config=log_config(settings),
        # RequestLogMiddleware logs each request, with more than uvicorn knows.
        access_log=False,
        # The app trusts X-Forwarded-For from SWITCHBOARD_TRUSTED_PROXIES only;
        # uvicorn's own default would trust it from 127.0.0.1.
        proxy_headers=False,
    )


def _organization_name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > ORGANIZATION_NAME_MAX_LENGTH:
        raise argparse.ArgumentTypeError(f"organization name must be 1 to {ORGANIZATION_NAME_MAX_LENGTH} characters")
    return name


def _batch_size(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 10_000:
        raise argparse.ArgumentTypeError("batch size must be a whole number from 1 to 10000")
    return int(value)


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

    rotate = commands.add_parser(
        "rotate-encryption-key", help="re-encrypt every stored secret with the first key of SWITCHBOARD_ENCRYPTION_KEYS"
    )
    rotate.add_argument(
        "--batch-size", type=_batch_size, default=DEFAULT_BATCH_SIZE, help=f"rows per transaction (default {DEFAULT_BATCH_SIZE})"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "export-schema":
        from schema import schema

        sys.stdout.write(schema.as_str() + "\n")
        return
    if args.command == "generate-encryption-key":
        print(generate_key())
        return

    try:
        settings = Settings.from_env()
        logging.config.dictConfig(log_config(settings))
        _run(args, settings)
    except (SettingsError, SecretKeyError) as error:
        parser.exit(2, f"switchboard: error: {error}\n")
    except CommandError as error:
        parser.exit(1, f"switchboard: error: {error}\n")


def _run(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "serve":
        _serve(settings, args.host, args.port)
    elif args.command == "migrate":
        asyncio.run(migrate(settings))
        print("migrations applied")
    elif args.command == "create-api-key":
        key = asyncio.run(create_api_key(settings, args.org))
        print(f"API key for organization {args.org!r} (shown once; store it now):", file=sys.stderr)
        print(key)
    elif args.command == "rotate-encryption-key":
        total, key_id = asyncio.run(rotate_encryption_key(settings, args.batch_size))
        print(f"re-encrypted {total} secrets; every stored secret is now sealed with key {key_id}")


if __name__ == "__main__":
    main()
