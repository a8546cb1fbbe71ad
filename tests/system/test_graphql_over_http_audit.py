"""graphql-http's GraphQL-over-HTTP audit against a real `switchboard serve`: every audit ok.

The audit is the reference implementation's own conformance suite (the npm
package graphql-http, pinned by tests/graphql_http_audit/package-lock.json);
`make test-deps` installs it into that folder.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from switchboard.settings import Settings
from tests.support.app import Api
from tests.support.servers import REPO, Servers
from tests.support.tooling import npm_project

AUDIT = REPO / "tests" / "graphql_http_audit"
AUDITS = 61


async def test_graphql_http_audit_is_all_ok(api: Api, settings: Settings, servers: Servers, tmp_path: Path) -> None:
    npm_project(AUDIT)
    server = servers.start(settings)

    result = subprocess.run(
        ["node", "audit.mjs", f"{server.url}/graphql", api.key], cwd=AUDIT, capture_output=True, text=True, timeout=120
    )

    assert result.stderr == ""
    report = json.loads(result.stdout)
    not_ok = [f"{a['id']} ({a['status']}) {a['name']}: {a['reason']}" for a in report["notOk"]]
    assert not_ok == [], "\n".join(not_ok)
    assert (report["total"], report["ok"], result.returncode) == (AUDITS, AUDITS, 0)
