"""The HTTP server's own limits, against real `switchboard serve` processes, with no key.

Request heads over a size, requests that never arrive whole, connections over
a per-worker cap, a low open-file limit, and request paths that would forge
log lines. Each attack is sent as raw bytes over a socket, as an attacker
would; nothing here depends on a proxy in front.

The limits' settings, without a server, are tested in tests/api/test_server_limit_settings.py.
"""

from __future__ import annotations

import contextlib
import json
import re
import resource
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx
import pytest

from switchboard.settings import Settings
from tests.support.servers import Server, Servers

# Only a safety net, so a broken server fails a test instead of hanging it:
# every wait below ends on an event (a close, a response), never on the clock.
SAFETY_SECONDS = 30
MIB = 1024 * 1024
# What an attack may add to a worker's peak resident memory, all connections together.
RSS_BOUND = 16 * MIB


# --- raw HTTP --------------------------------------------------------------------


def request(path: str = "/healthz", headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"GET {path} HTTP/1.1" if not body else f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def request_of_head_size(size: int) -> bytes:
    """A GET /healthz whose request line and headers are exactly `size` bytes."""
    bare = request()
    filler_name = "X-Filler: "
    filler = "a" * (size - len(bare) - len(filler_name) - 2)
    head = request(headers={"X-Filler": filler})
    assert len(head) == size
    return head


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=SAFETY_SECONDS)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def read_response(stream: BinaryIO) -> Response:
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), f"no response, got {status_line!r}"
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers.get("content-length", "0")))
    return Response(int(status_line.split()[1]), headers, body)


def rest_of_connection(sock: socket.socket) -> bytes:
    """Everything the server still sends, until it closes the connection (or resets it)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def send_until_refused(sock: socket.socket, chunks: Iterator[bytes]) -> bool:
    """Send every chunk, or stop when the server will take no more; whether it took everything."""
    try:
        for chunk in chunks:
            sock.sendall(chunk)
        # The whole attack went through: let the server see the end of it.
        sock.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError, OSError):  # OSError: reset, not connected anymore
        return False
    return True


def status_of(data: bytes) -> int | None:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
    return int(match.group(1)) if match else None


# --- processes -------------------------------------------------------------------


def worker_pids(server: Server, settings: Settings) -> list[int]:
    """The processes that serve connections: `serve` itself with one worker, else its children."""
    if server_workers(settings) == 1:
        return [server.process.pid]
    pid = server.process.pid
    children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    # uvicorn starts its workers with multiprocessing's spawn.
    workers = [child for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]
    assert len(workers) == server_workers(settings), children
    return workers


def server_workers(settings: Settings) -> int:
    return 1 if settings.is_sqlite else 2  # as tests/support/servers.py starts them


def memory(pid: int, field: str) -> int:
    """A /proc/<pid>/status memory field (VmRSS, VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


def reset_peak_memory(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SAFETY_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def healthz_status(server: Server) -> int | None:
    """GET /healthz on a new connection: the status, or None if no response came."""
    try:
        with connect(server) as sock, sock.makefile("rb") as stream:
            sock.sendall(request())
            return read_response(stream).status
    except (OSError, AssertionError):
        return None


# --- settings --------------------------------------------------------------------


# --- request heads over the limit --------------------------------------------------


def one_endless_header() -> Iterator[bytes]:
    yield b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
    for _ in range(32):
        yield b"a" * MIB


def endless_header_lines() -> Iterator[bytes]:
    yield b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    line = b"X-Line: " + b"b" * 100 + b"\r\n"
    for _ in range(32):
        yield line * (MIB // len(line))


FLOODS = [
    pytest.param(one_endless_header, id="one-huge-header"),
    pytest.param(endless_header_lines, id="many-header-lines"),
]


@pytest.mark.parametrize("flood", FLOODS)
def test_a_flood_of_header_bytes_is_refused_with_431_and_memory_stays_bounded(
    settings: Settings, servers: Servers, flood: Callable[[], Iterator[bytes]]
) -> None:
    server = servers.start(settings)
    workers = worker_pids(server, settings)
    before = {}
    for pid in workers:
        reset_peak_memory(pid)
        before[pid] = memory(pid, "VmRSS")

    answers: list[bytes] = []
    took_everything: list[bool] = []

    def attack() -> None:
        with connect(server) as sock:
            took_everything.append(send_until_refused(sock, flood()))
            answers.append(rest_of_connection(sock))

    attackers = [threading.Thread(target=attack) for _ in range(3)]
    for attacker in attackers:
        attacker.start()
    for attacker in attackers:
        attacker.join()

    for pid in workers:
        assert memory(pid, "VmHWM") - before[pid] < RSS_BOUND
    # 3 x 32 MiB sent; the server stopped reading each after 64 KiB and said why.
    assert took_everything == [False] * 3
    assert [status_of(answer) for answer in answers] == [431] * 3, answers
    assert healthz_status(server) == 200


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_the_head_limit_is_exact_and_counted_per_request(settings: Settings, servers: Servers) -> None:
    server = servers.start(settings, SWITCHBOARD_MAX_HEADER_BYTES="4096")
    with connect(server) as sock, sock.makefile("rb") as stream:
        # On one kept-alive connection, each request is counted on its own.
        for _ in range(3):
            sock.sendall(request_of_head_size(4096))
            assert read_response(stream).status == 200
        sock.sendall(request_of_head_size(4097))
        refused = read_response(stream)
        assert (refused.status, refused.headers["connection"]) == (431, "close")
        assert b"4096 bytes" in refused.body
        assert stream.read() == b""  # closed


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_whole_request_with_a_large_head_is_refused_not_served(settings: Settings, servers: Servers) -> None:
    server = servers.start(settings)
    with connect(server) as sock:
        head = request(headers={f"X-Line-{i}": "c" * 100 for i in range(10_000)})  # about 1 MiB
        send_until_refused(sock, iter([head]))
        assert status_of(rest_of_connection(sock)) == 431


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_pipelined_request_over_the_limit_is_refused_after_the_one_before_is_answered(
    settings: Settings, servers: Servers
) -> None:
    server = servers.start(settings, SWITCHBOARD_MAX_HEADER_BYTES="4096")
    with connect(server) as sock, sock.makefile("rb") as stream:
        # The second is just under the limit, the third over it.
        sock.sendall(request("/readyz") + request_of_head_size(4000) + request_of_head_size(8000))
        assert [read_response(stream).status for _ in range(3)] == [200, 200, 431]
        assert stream.read() == b""


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_endless_chunk_trailers_are_cut_off(settings: Settings, servers: Servers) -> None:
    """Trailer fields come after a chunked body; they are header fields, and bounded like them."""
    server = servers.start(settings)
    workers = worker_pids(server, settings)
    reset_peak_memory(workers[0])
    before = memory(workers[0], "VmRSS")

    def trailers() -> Iterator[bytes]:
        yield b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        yield b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Trailer: "
        for _ in range(32):
            yield b"t" * MIB

    with connect(server) as sock:
        took_everything = send_until_refused(sock, trailers())
        rest_of_connection(sock)
    assert memory(workers[0], "VmHWM") - before < RSS_BOUND
    assert not took_everything


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_pipelined_requests_are_read_only_a_few_ahead_of_their_answers(settings: Settings, servers: Servers) -> None:
    """Each queued request holds its parsed head: read without end, a pipelining client's bytes become the server's memory."""
    server = servers.start(settings)
    pid = worker_pids(server, settings)[0]
    reset_peak_memory(pid)
    before = memory(pid, "VmRSS")
    count = 800
    heavy = request(headers={"X-Filler": "f" * 60_000})
    with connect(server) as sock, sock.makefile("rb") as stream:
        sender = threading.Thread(target=sock.sendall, args=(heavy * count,))  # 48 MB at once
        sender.start()
        statuses = [read_response(stream).status for _ in range(count)]
        sender.join()
    assert memory(pid, "VmHWM") - before < RSS_BOUND
    assert statuses == [200] * count


# --- requests that never arrive whole, responses never taken ------------------------------


@dataclass(frozen=True)
class Slow:
    """A client that opens a connection and never finishes a request on it."""

    sends: Callable[[socket.socket], None]
    answer: int | None  # the status the server answers before closing, or None: closed without one


def nothing(sock: socket.socket) -> None:
    pass


def partial_head(sock: socket.socket) -> None:
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Waiting: ")


def drip_head(sock: socket.socket) -> None:
    """Slowloris: a byte of header at a time, each well inside the timeout, so the connection is never idle."""
    sock.sendall(b"GET /healthz HTTP/1.1\r\nX-Drip: ")
    deadline = time.monotonic() + SAFETY_SECONDS
    try:
        while not select.select([sock], [], [], 0.2)[0] and time.monotonic() < deadline:
            sock.sendall(b"d")
    except (BrokenPipeError, ConnectionResetError):
        pass


def partial_body(sock: socket.socket) -> None:
    sock.sendall(request("/graphql", {"Content-Type": "application/json"}, b'{"query": "{ __typename }"}')[:-5])


def partial_second_request(sock: socket.socket) -> None:
    """The first request is answered; the second never finishes (uvicorn's keep-alive timer stops at its first byte)."""
    sock.sendall(request())
    with sock.makefile("rb") as stream:
        assert read_response(stream).status == 200
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")


def idle_after_a_request(sock: socket.socket) -> None:
    sock.sendall(request())
    with sock.makefile("rb") as stream:
        assert read_response(stream).status == 200


SLOW_CLIENTS = {
    "sends-nothing": Slow(nothing, None),
    "partial-head": Slow(partial_head, 408),
    "drips-head": Slow(drip_head, 408),
    "partial-body": Slow(partial_body, 408),
    "partial-second-request": Slow(partial_second_request, 408),
    "idle-after-a-request": Slow(idle_after_a_request, None),
}


def test_a_connection_without_a_whole_request_is_closed_after_the_timeout(settings: Settings, servers: Servers) -> None:
    server = servers.start(settings, SWITCHBOARD_CLIENT_TIMEOUT="2")
    outcomes: dict[str, bytes] = {}

    def client(name: str, slow: Slow) -> None:
        with connect(server) as sock:
            slow.sends(sock)
            outcomes[name] = rest_of_connection(sock)  # returns once the server closes

    threads = [threading.Thread(target=client, args=item) for item in SLOW_CLIENTS.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {name: status_of(data) for name, data in outcomes.items()} == {
        name: slow.answer for name, slow in SLOW_CLIENTS.items()
    }
    assert healthz_status(server) == 200


def test_a_client_that_never_takes_its_responses_is_disconnected(settings: Settings, servers: Servers) -> None:
    """Slow read: responses a client never takes would hold its connection, a place under the cap, for good."""
    server = servers.start(
        settings, SWITCHBOARD_CLIENT_TIMEOUT="2", SWITCHBOARD_MAX_CONNECTIONS="1", SWITCHBOARD_WORKERS="1"
    )
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(SAFETY_SECONDS)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(request("/v1/openapi.json") * 200)  # 17 KB answers, never read
        assert healthz_status(server) == 503  # the one place is taken
        wait_for(lambda: healthz_status(server) == 200, "the server to drop the client that reads nothing")
    assert "Exception in ASGI application" not in server.log()


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_keep_alive_still_serves_requests_that_arrive_in_time(settings: Settings, servers: Servers) -> None:
    server = servers.start(settings, SWITCHBOARD_CLIENT_TIMEOUT="3")
    with connect(server) as sock, sock.makefile("rb") as stream:
        for _ in range(5):
            sock.sendall(request())
            assert read_response(stream).status == 200
            time.sleep(0.2)


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
def test_the_timeout_never_cuts_a_response_the_server_is_still_working_on(settings: Settings, servers: Servers) -> None:
    """The clock stops once the request is in: a slow answer is not the client's fault."""
    server = servers.start(settings, SWITCHBOARD_CLIENT_TIMEOUT="1")
    locked = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:
        # /readyz reads the migrations table, so it waits for this lock.
        import asyncio

        import asyncpg

        async def hold() -> None:
            connection = await asyncpg.connect(settings.database_url)
            try:
                async with connection.transaction():
                    await connection.execute("LOCK TABLE tortoise_migrations IN ACCESS EXCLUSIVE MODE")
                    locked.set()
                    await asyncio.get_running_loop().run_in_executor(None, release.wait)
            finally:
                await connection.close()

        asyncio.run(hold())

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(SAFETY_SECONDS)
        with connect(server) as sock, sock.makefile("rb") as stream:
            sock.sendall(request("/readyz"))
            time.sleep(3)  # the request waits inside the server, three timeouts long
            release.set()
            assert read_response(stream).status == 200
    finally:
        release.set()
        holder.join()


# --- connections over the cap --------------------------------------------------------


def test_connections_over_the_per_worker_cap_get_503_at_once(settings: Settings, servers: Servers) -> None:
    # One worker on both databases, so which worker takes a connection is known.
    server = servers.start(
        settings, SWITCHBOARD_MAX_CONNECTIONS="5", SWITCHBOARD_WORKERS="1", SWITCHBOARD_CLIENT_TIMEOUT="60"
    )
    held = [connect(server) for _ in range(5)]
    try:
        # The sixth is answered before it sends anything, and closed: it never holds a descriptor.
        with connect(server) as over:
            answer = rest_of_connection(over)
        assert status_of(answer) == 503
        assert b"5 connections" in answer
        # A request from a client that sends at once gets the same answer.
        assert healthz_status(server) == 503
        # The five are still served.
        held[0].sendall(request())
        with held[0].makefile("rb") as stream:
            assert read_response(stream).status == 200
        # A freed place is taken again.
        held.pop().close()
        wait_for(lambda: healthz_status(server) == 200, "a freed connection to be served")
    finally:
        for sock in held:
            sock.close()


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
def test_each_of_several_workers_holds_at_most_its_cap(settings: Settings, servers: Servers) -> None:
    cap, workers, clients = 3, 2, 20
    server = servers.start(settings, SWITCHBOARD_MAX_CONNECTIONS=str(cap), SWITCHBOARD_CLIENT_TIMEOUT="60")
    sockets = [connect(server) for _ in range(clients)]
    try:
        statuses = []
        for sock in sockets:
            with contextlib.suppress(OSError):  # refused already; its 503 is waiting to be read
                sock.sendall(request())
            with sock.makefile("rb") as stream:
                statuses.append(read_response(stream).status)
        assert set(statuses) == {200, 503}
        assert cap <= statuses.count(200) <= cap * workers
    finally:
        for sock in sockets:
            sock.close()


def lower_open_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))


def test_idle_sockets_cannot_exhaust_file_descriptors(settings: Settings, servers: Servers) -> None:
    server = servers.start(
        settings, preexec_fn=lower_open_file_limit, SWITCHBOARD_WORKERS="1", SWITCHBOARD_CLIENT_TIMEOUT="3"
    )
    idle = [connect(server) for _ in range(140)]
    try:
        # The cap follows the descriptors the process may open: those over it are refused at once,
        # so a client is told the server is busy, instead of finding no one accepting.
        assert healthz_status(server) == 503
        # Once the idle ones have had their time, the server closes them and serves again.
        for sock in idle:
            rest_of_connection(sock)
        wait_for(lambda: healthz_status(server) == 200, "the server to serve again")
        assert server.process.poll() is None
        assert "Too many open files" not in server.log()
    finally:
        for sock in idle:
            sock.close()


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
    for _path, control in FORGING_PATHS.values():
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
    for _path, control in FORGING_PATHS.values():
        assert any(control in logged for logged in logged_paths), control
