"""The `switchboard` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import sys
from collections.abc import Sequence

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as apply_migrations

from models import ApiKeyScope
from models.secrets import SecretBox, SecretDecryptionError, SecretKeyError, generate_key
from resolvers.api_keys import DEFAULT_NAME, IssuedKey, utcnow
from resolvers.key_rotation import DEFAULT_BATCH_SIZE, Unrotated, reseal_secrets, unrotated_secrets
from switchboard.db import migration_lock, tortoise_config
from switchboard.keys import commands as key_commands
from switchboard.logs import log_config
from switchboard.settings import DEFAULT_HOST, DEFAULT_PORT, HOST_RULE, MAX_PORT, Settings, SettingsError, is_host

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


async def create_api_key(settings: Settings, args: argparse.Namespace) -> IssuedKey:
    # Applies pending migrations first, so a key can be made before the first `serve`.
    await migrate(settings)
    return await key_commands.create_key(settings, args.org, args.name, ApiKeyScope(args.scope), args.expires_in)


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
        left = await unrotated_secrets(box)
    except SecretDecryptionError as error:
        raise CommandError(
            f"{error}; add the key it was sealed with to SWITCHBOARD_ENCRYPTION_KEYS and run again"
        ) from error
    finally:
        await Tortoise.close_connections()
    if left.total:
        raise CommandError(_unrotated_report(total, left, box.primary_key_id))
    return total, box.primary_key_id


def _unrotated_report(resealed: int, left: Unrotated, key_id: str) -> str:
    lines = [
        f"re-encrypted {resealed} secrets, but {left.total} stored secrets are still not sealed with key {key_id}: "
        "a server that does not have it first wrote them meanwhile",
        *(f"  phone number {row_id}, {column}" for row_id, column in left.first),
    ]
    if left.total > len(left.first):
        lines.append(f"  and {left.total - len(left.first)} more")
    lines.append(
        "Give every server the new key first in SWITCHBOARD_ENCRYPTION_KEYS, then run rotate-encryption-key again; "
        "keep the old key until it succeeds."
    )
    return "\n".join(lines)


def _serve(settings: Settings, host: str | None, port: int | None) -> None:
    from switchboard.http.server import ListenError, listen, serve

    try:
        # Before migrating: a busy port is told at once, and changes nothing.
        sock = listen(settings.host if host is None else host, settings.port if port is None else port)
    except ListenError as error:
        raise CommandError(str(error)) from None
    with sock:
        asyncio.run(migrate(settings))
        serve(settings, sock)


def _monitor(settings: Settings) -> None:
    from switchboard.keys.encryption import encryption_keys
    from switchboard.monitor import run_monitor

    if settings.is_sqlite:
        raise CommandError(
            "monitor runs beside servers on PostgreSQL; on SQLite, `serve` (one process) monitors by itself "
            "while SWITCHBOARD_HEALTH_INTERVAL is above 0"
        )
    if not settings.health_interval:
        raise CommandError(
            "SWITCHBOARD_HEALTH_INTERVAL is 0, which turns monitoring off: set it to the seconds between checks"
        )
    asyncio.run(migrate(settings))
    # The event loop `serve`'s workers run on (uvicorn picks uvloop where it is installed): a
    # check costs about two thirds of its CPU on asyncio's own loop (docs/monitoring.md).
    try:
        import uvloop
    except ImportError:  # not on every platform (uvicorn[standard] leaves it out on Windows)
        asyncio.run(run_monitor(settings, SecretBox(encryption_keys(settings))))
    else:
        uvloop.run(run_monitor(settings, SecretBox(encryption_keys(settings))))


def _organization_name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > ORGANIZATION_NAME_MAX_LENGTH:
        raise argparse.ArgumentTypeError(f"organization name must be 1 to {ORGANIZATION_NAME_MAX_LENGTH} characters")
    return name


def _host(value: str) -> str:
    if not is_host(value.strip()):
        raise argparse.ArgumentTypeError(f"{HOST_RULE}, got {value!r}")
    return value.strip()


def _port(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_PORT}, got {value!r}")
    return int(value)


def _batch_size(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 10_000:
        raise argparse.ArgumentTypeError("batch size must be a whole number from 1 to 10000")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description="Phone numbers for voice-AI agents, over GraphQL.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply pending migrations, then serve /graphql")
    serve.add_argument(
        "--host",
        type=_host,
        help=f"address to listen on (default: SWITCHBOARD_HOST, or {DEFAULT_HOST}; 0.0.0.0 for every interface)",
    )
    serve.add_argument("--port", type=_port, help=f"port to listen on (default: SWITCHBOARD_PORT, or {DEFAULT_PORT})")

    commands.add_parser(
        "monitor",
        help="apply pending migrations, then re-check numbers' providers every SWITCHBOARD_HEALTH_INTERVAL seconds "
        "in this process only (PostgreSQL; serve monitors in each worker unless its interval is 0)",
    )
    commands.add_parser("migrate", help="apply pending database migrations")
    commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    commands.add_parser("export-rules", help="print docs/rules.md, the input rules, from the provider specs")

    key = commands.add_parser("create-api-key", help="create an API key (and the organization if needed)")
    key.add_argument("--org", required=True, type=_organization_name, help="organization name")
    key.add_argument(
        "--name", default=DEFAULT_NAME, help=f"what the key is for, to tell keys apart (default {DEFAULT_NAME!r})"
    )
    key.add_argument(
        "--scope",
        choices=[s.value for s in ApiKeyScope],
        default=ApiKeyScope.ADMIN.value,
        help="what the key may do (default admin)",
    )
    key.add_argument("--expires-in", type=key_commands.duration, help="e.g. 90d, 12h or 30m (default: never expires)")

    keys = commands.add_parser("list-api-keys", help="list an organization's API keys, newest first")
    keys.add_argument("--org", required=True, type=_organization_name, help="organization name")
    keys.add_argument("--json", action="store_true", help="print JSON instead of a table")

    revoke = commands.add_parser("revoke-api-key", help="revoke an API key: servers refuse it within a second")
    revoke.add_argument("id", type=key_commands.key_id, help="the key's id, as list-api-keys shows it")

    commands.add_parser("generate-encryption-key", help="print a new key for SWITCHBOARD_ENCRYPTION_KEYS")

    rotate = commands.add_parser(
        "rotate-encryption-key", help="re-encrypt every stored secret with the first key of SWITCHBOARD_ENCRYPTION_KEYS"
    )
    rotate.add_argument(
        "--batch-size",
        type=_batch_size,
        default=DEFAULT_BATCH_SIZE,
        help=f"rows per transaction (default {DEFAULT_BATCH_SIZE})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "export-schema":
        from schema import schema

        sys.stdout.write(schema.as_str() + "\n")
        return
    if args.command == "export-rules":
        from switchboard.rules_doc import rules_markdown

        sys.stdout.write(rules_markdown())
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
    except key_commands.KeyArgumentError as error:
        parser.exit(2, f"switchboard: error: {error}\n")
    except (CommandError, key_commands.KeyCommandError) as error:
        parser.exit(1, f"switchboard: error: {error}\n")


def _run(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "serve":
        _serve(settings, args.host, args.port)
    elif args.command == "monitor":
        _monitor(settings)
    elif args.command == "migrate":
        asyncio.run(migrate(settings))
        print("migrations applied")
    elif args.command == "create-api-key":
        issued = asyncio.run(create_api_key(settings, args))
        print(
            f"API key {issued.api_key.id} ({args.scope}) for organization {args.org!r} (shown once; store it now):",
            file=sys.stderr,
        )
        print(issued.key)
    elif args.command == "list-api-keys":
        rows = asyncio.run(key_commands.list_keys(settings, args.org))
        print((key_commands.as_json if args.json else key_commands.table)(rows, utcnow()))
    elif args.command == "revoke-api-key":
        row = asyncio.run(key_commands.revoke_key(settings, args.id))
        print(f"revoked API key {row.id} ({row.name!r}, {row.display_prefix}...); servers refuse it within a second")
    elif args.command == "rotate-encryption-key":
        total, key_id = asyncio.run(rotate_encryption_key(settings, args.batch_size))
        print(f"re-encrypted {total} secrets; every stored secret is now sealed with key {key_id}")


if __name__ == "__main__":
    main()
