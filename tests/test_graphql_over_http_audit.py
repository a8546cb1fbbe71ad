"""graphql-http's GraphQL-over-HTTP audit against a real `switchboard serve`: every audit ok.

The audit is the reference implementation's own conformance suite (the npm
package graphql-http, pinned by tests/graphql_http_audit/package-lock.json);
`npm ci` installs it into that folder once, and later runs reuse it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from switchboard.settings import Settings
from tests.conftest import Api
from tests.servers import REPO, Servers

AUDIT = REPO / "tests" / "graphql_http_audit"
AUDITS = 61


def install_audit() -> None:
    lock = AUDIT / "package-lock.json"
    installed = AUDIT / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=AUDIT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


async def test_graphql_http_audit_is_all_ok(api: Api, settings: Settings, servers: Servers, tmp_path: Path) -> None:
    install_audit()
    server = servers.start(settings)

    result = subprocess.run(
        ["node", "audit.mjs", f"{server.url}/graphql", api.key], cwd=AUDIT, capture_output=True, text=True, timeout=120
    )

    assert result.stderr == ""
    report = json.loads(result.stdout)
    not_ok = [f"{a['id']} ({a['status']}) {a['name']}: {a['reason']}" for a in report["notOk"]]
    assert not_ok == [], "\n".join(not_ok)
    assert (report["total"], report["ok"], result.returncode) == (AUDITS, AUDITS, 0)
