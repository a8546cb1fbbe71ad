"""The HTTP server's own limits, against real `switchboard serve` processes, with no key.

Request heads over a size, requests that never arrive whole, connections over
a per-worker cap, a low open-file limit, and request paths that would forge
log lines. Each attack is sent as raw bytes over a socket, as an attacker
would; nothing here depends on a proxy in front.
"""

from __future__ import annotations

import json
import re

import httpx

from switchboard.settings import Settings
from tests.servers import Server, Servers

# --- log lines that cannot be forged ------------------------------------------------------


FORGING_PATHS = {
    "line-feed": ("/graphql%0A2026-01-01 00:00:00,000 INFO switchboard.request: forged", "\n"),
    "carriage-return-line-feed": ("/x%0D%0Aforged", "\r\n"),
    "escape-sequence": ("/x%1B%5B2J%1B%5BHforged", "\x1b[2J\x1b[H"),
    "line-separator": ("/x%E2%80%A8forged", "\u2028"),
    "paragraph-separator": ("/x%E2%80%A9forged", "\u2029"),
    "next-line": ("/x%C2%85forged", "\x85"),
    "vertical-tab-form-feed": ("/x%0B%0Cforged", "\x0b\x0c"),
    "nul": ("/x%00forged", "\x00"),
    "bidi-override": ("/x%E2%80%AEforged", "\u202e"),
}
TEXT_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")


def send_forging_requests(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        for path, _ in FORGING_PATHS.values():
            assert client.get(path).status_code == 404
        # A backslash is escaped too, so an escape in the log always stands for a control character.
        assert client.get("/x%5Cnforged").status_code == 404


def test_text_log_lines_escape_control_characters(settings: Settings, servers: Servers) -> None:
    server = servers.start(settings, SWITCHBOARD_LOG_FORMAT="text")
    send_forging_requests(server)
    assert server.terminate() == 0

    output = server.log()
    lines = output.split("\n")
    assert lines.pop() == ""
    for line in lines:
        assert TEXT_LINE.match(line), line
        assert line.isprintable(), line
    requests = [line for line in lines if " switchboard.request: GET /x" in line or "GET /graphql" in line]
    for path, control in FORGING_PATHS.values():
        escaped = control.encode("unicode_escape").decode("ascii")
        assert any(escaped + "forged" in line or escaped + "2026" in line for line in requests), (control, requests)
    assert any("GET /x\\\\nforged 404" in line for line in requests)


def test_json_log_lines_stay_one_record_each(settings: Settings, servers: Servers) -> None:
    server = servers.start(settings)
    send_forging_requests(server)
    assert server.terminate() == 0

    lines = server.log().split("\n")
    assert lines.pop() == ""
    records = [json.loads(line) for line in lines]  # every line is one whole record
    logged_paths = {record["path"] for record in records if record.get("logger") == "switchboard.request"}
    for path, control in FORGING_PATHS.values():
        assert any(control in logged for logged in logged_paths), control
