"""Configuration errors name the variable and the rule, and stop the process at once.

These are the tests that need real processes; the in-process ones are in tests/api/test_settings.py.
"""

from __future__ import annotations

from pathlib import Path

from switchboard.settings import Settings
from tests.support.servers import server_environment, switchboard


def test_serve_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    settings = Settings(f"sqlite://{tmp_path / 'switchboard.sqlite3'}", tmp_path, ())
    result = switchboard("serve", env=server_environment(settings, SWITCHBOARD_WORKERS="2"))
    assert result.returncode == 2
    assert result.stderr == (
        "switchboard: error: SWITCHBOARD_WORKERS is 2, but SQLite serves from one worker process only: "
        "processes sharing one SQLite file queue behind each other's write locks. "
        "For several workers or hosts, set DATABASE_URL to a PostgreSQL database (postgres://...)\n"
    )
