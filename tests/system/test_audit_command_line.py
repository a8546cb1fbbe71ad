"""The audit log: every change appends exactly its event, with its exact diff; nothing else does.

The mutations come from the schema and the OpenAPI document: a new mutation
or changing REST operation without a case here fails
`test_every_mutation_has_an_audit_case` (or its REST twin).

These are the tests that need real processes; the in-process ones are in tests/api/test_audit.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.audit_helpers import (
    all_events,
    change,
    created,
)
from tests.support.database import ENCRYPTION_KEY
from tests.support.graphql_ops import (
    LIST_API_KEYS,
)
from tests.support.secret_sweep import SWEEP
from tests.support.servers import first_run_environment, switchboard


def z(value: str | None) -> str | None:
    """A time as events spell it: UTC, with Z."""
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- phone numbers ------------------------------------------------------------------


# --- agents -------------------------------------------------------------------------


# --- API keys -----------------------------------------------------------------------


# --- the same over REST ---------------------------------------------------------------


# --- the command line -----------------------------------------------------------------


async def test_keys_created_and_revoked_at_the_command_line_name_the_command(settings: Settings, api: Api) -> None:
    env = first_run_environment(
        settings.data_dir, DATABASE_URL=settings.database_url, SWITCHBOARD_ENCRYPTION_KEYS=ENCRYPTION_KEY
    )
    issued = switchboard("create-api-key", "--org", "Acme", "--name", "ops", "--scope", "read", env=env)
    assert issued.returncode == 0, issued.stderr
    SWEEP.add_secret(issued.stdout.strip().splitlines()[-1])
    (key,) = [
        edge["node"] for edge in (await api.gql(LIST_API_KEYS, {}))["apiKeys"]["edges"] if edge["node"]["name"] == "ops"
    ]
    assert switchboard("revoke-api-key", key["id"], env=env).returncode == 0
    (revoked,) = [
        edge["node"] for edge in (await api.gql(LIST_API_KEYS, {}))["apiKeys"]["edges"] if edge["node"]["name"] == "ops"
    ]

    events = await all_events(api, filter={"targetId": key["id"]})

    command_line = {"type": "COMMAND_LINE", "apiKeyId": None, "prefix": None}
    assert [(e["action"], e["actor"], e["requestId"], e["changes"]) for e in events] == [
        (
            "API_KEY_REVOKED",
            {**command_line, "name": "switchboard revoke-api-key"},
            None,
            [change("revokedAt", None, z(revoked["revokedAt"]))],
        ),
        (
            "API_KEY_CREATED",
            {**command_line, "name": "switchboard create-api-key"},
            None,
            created([("name", "ops"), ("prefix", key["prefix"]), ("scopes", ["READ"])]),
        ),
    ]


# --- nothing else writes an event -------------------------------------------------------


# --- secrets ------------------------------------------------------------------------------
