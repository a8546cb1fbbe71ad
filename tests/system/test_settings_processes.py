"""Configuration errors name the variable and the rule, and stop the process at once.

These are the tests that need real processes; the in-process ones are in tests/api/test_settings.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from switchboard.settings import Settings
from tests.support.kamailio import TlsCertificates
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


def test_serve_refuses_a_manifest_entry_that_is_not_its_documents_hash(tmp_path: Path) -> None:
    settings = Settings(f"sqlite://{tmp_path / 'switchboard.sqlite3'}", tmp_path, ())
    document = "{ __typename }"
    actual = hashlib.sha256(document.encode()).hexdigest()
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({f"sha256:{'0' * 64}": document}))
    result = switchboard("serve", env=server_environment(settings, SWITCHBOARD_PERSISTED_DOCUMENTS=str(manifest)))
    assert result.returncode == 2
    assert result.stderr == (
        f"switchboard: error: SWITCHBOARD_PERSISTED_DOCUMENTS: {manifest}: the entry sha256:{'0' * 64} "
        f"is not its document's SHA-256, which is sha256:{actual}\n"
    )


def test_serve_refuses_trusted_documents_only_without_a_manifest(tmp_path: Path) -> None:
    settings = Settings(f"sqlite://{tmp_path / 'switchboard.sqlite3'}", tmp_path, ())
    result = switchboard("serve", env=server_environment(settings, SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY="true"))
    assert result.returncode == 2
    assert result.stderr == (
        "switchboard: error: SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY is true, but SWITCHBOARD_PERSISTED_DOCUMENTS is not "
        "set: set it to the manifest of the documents to run (persisted-documents.json)\n"
    )


# TlsCertificates lives beside Kamailio, which the api tier does not import.
def test_check_options_from_the_environment(tmp_path: Path) -> None:
    ca_file = TlsCertificates(tmp_path).ca_file
    settings = Settings.from_env(
        {
            "SWITCHBOARD_VERIFY_TIMEOUT": "1.5",
            "SWITCHBOARD_ALLOW_LOCAL_TARGETS": "true",
            "SWITCHBOARD_TWILIO_API_URL": "https://twilio.internal:8443/",
            "SWITCHBOARD_VERIFY_CA_FILE": str(ca_file),
        }
    )
    options = settings.check_options
    assert (options.timeout, options.allow_local_targets, options.twilio_api_url, options.tls_ca_file) == (
        1.5,
        True,
        "https://twilio.internal:8443",
        str(ca_file),
    )
