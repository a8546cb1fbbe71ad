"""Instructions per request, counted by valgrind's callgrind: figures that hold still between commits.

    python -m bench.instructions [--requests N] [--rounds R] [--postgres URL]    (or `make bench-instructions`)

Wall-clock figures on a shared machine move by tens of percent from run to
run; the number of instructions a request executes moves by well under one.
This runs Switchboard and the baselines (bench/baseline.py) in one process
under callgrind, calls them in-process over ASGI (no sockets, no HTTP
parser: the same for every path), warms every path up, and then counts only
the N requests of each path in turn, all threads included (SQLite's work
runs in aiosqlite's thread). With --postgres the database's own work is in
the PostgreSQL server and is not counted.

Paths: a bare insert (the baseline), REST create, GraphQL create; the first
page of 100 numbers with configuration and agent from a bare SELECT (the
baseline), GraphQL and the REST list. Each GraphQL path is counted twice:
with compiled execution (the default) and with it off
(SWITCHBOARD_COMPILED_EXECUTION=false: graphql-core's executor). Each create's row is checked to exist.
Needs valgrind and the client-request helper bench/callgrind.c, which `make
bench-instructions` builds. `--check` runs every path without valgrind and
counts nothing: tests/system/test_bench_smoke.py keeps the harness working with it.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import logging.config
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
HELPER = BENCH / ".build" / "callgrind.so"

CREATE_OFF, PAGE_OFF = "GraphQL create, compiled off", "page of 100: GraphQL, compiled off"
CREATES = ("bare insert", "REST create", "GraphQL create", CREATE_OFF)
PAGES = ("page of 100: bare SELECT", "page of 100: GraphQL", PAGE_OFF, "page of 100: REST list")
RATIOS = {
    "REST create / bare insert": ("REST create", "bare insert"),
    "GraphQL create / bare insert": ("GraphQL create", "bare insert"),
    "GraphQL create off / bare insert": (CREATE_OFF, "bare insert"),
    "GraphQL page / bare SELECT": ("page of 100: GraphQL", "page of 100: bare SELECT"),
    "GraphQL page off / bare SELECT": (PAGE_OFF, "page of 100: bare SELECT"),
    "REST page / bare SELECT": ("page of 100: REST list", "page of 100: bare SELECT"),
}
TARGETS = {"GraphQL create / bare insert": 1.5, "GraphQL page / bare SELECT": 2.0}


# --- inside valgrind --------------------------------------------------------------


@dataclass
class Call:
    app: Any
    method: str
    path: str
    body: Callable[[int], bytes]  # of the request's serial number
    key: str
    status: int  # what every answer must be
    compiled: bool = True  # SWITCHBOARD_COMPILED_EXECUTION for a GraphQL path


async def asgi(app: Any, method: str, path: str, body: bytes, key: str) -> tuple[int, bytes]:
    """One request, in-process: the scope a server would give, the body at once, the answer gathered."""
    path, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    if key:
        headers.append((b"authorization", f"Bearer {key}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _calls(switchboard: Any, baseline: Any, key: str, page_key: str) -> dict[str, Call]:
    from bench.run import CREATE_QUERY, PAGE_QUERY, TWILIO

    def number(serial: int, block: int) -> str:
        return f"+1212{2000000 + block * 1_000_000 + serial:07d}"

    def graphql_create(block: int) -> Callable[[int], bytes]:
        def body(serial: int) -> bytes:
            variables = {"input": {"number": number(serial, block), "provider": {"twilio": TWILIO}}}
            return json.dumps({"query": CREATE_QUERY, "variables": variables}).encode()

        return body

    def rest_create(serial: int) -> bytes:
        return json.dumps(
            {
                "number": number(serial, 2),
                "provider": "twilio",
                "twilioAccountSid": TWILIO["accountSid"],
                "twilioAuthToken": TWILIO["authToken"],
            }
        ).encode()

    page = json.dumps({"query": PAGE_QUERY}).encode()
    return {
        "bare insert": Call(baseline, "POST", "/insert", graphql_create(0), "", 200),
        "REST create": Call(switchboard, "POST", "/v1/phone-numbers", rest_create, key, 201),
        "GraphQL create": Call(switchboard, "POST", "/graphql", graphql_create(1), key, 200),
        CREATE_OFF: Call(switchboard, "POST", "/graphql", graphql_create(3), key, 200, compiled=False),
        "page of 100: bare SELECT": Call(baseline, "GET", "/page", lambda _: b"", "", 200),
        "page of 100: GraphQL": Call(switchboard, "POST", "/graphql", lambda _: page, page_key, 200),
        PAGE_OFF: Call(switchboard, "POST", "/graphql", lambda _: page, page_key, 200, compiled=False),
        "page of 100: REST list": Call(switchboard, "GET", "/v1/phone-numbers?limit=100", lambda _: b"", page_key, 200),
    }


class Counter:
    """The client requests of bench/callgrind.c."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(str(HELPER))
        self.lib.bench_dump.argtypes = [ctypes.c_char_p]

    def start(self) -> None:
        self.lib.bench_start()

    def stop_and_dump(self, label: str) -> None:
        self.lib.bench_stop()
        self.lib.bench_dump(label.encode())


class NoCounter:
    """--check: every path runs and is checked, nothing is counted."""

    def start(self) -> None:
        pass

    def stop_and_dump(self, label: str) -> None:
        pass


async def _inside(args: argparse.Namespace) -> None:
    from starlette.routing import Route

    from bench.baseline import create_app as baseline_app
    from bench.run import CREATE_AGENT_QUERY, PAGE_AGENTS, _organizations
    from models import PhoneNumber
    from switchboard.app import create_app
    from switchboard.http.view import GraphQLView
    from switchboard.logs import log_config
    from switchboard.settings import Settings

    orgs = await _organizations(os.environ["DATABASE_URL"])
    os.environ["BENCH_ORGANIZATION_ID"] = str(orgs["baseline"][0])
    os.environ["BENCH_PAGE_ORGANIZATION_ID"] = str(orgs["small"][0])
    settings = Settings.from_env()
    # The request log line is part of a request's work: written, as a server writes it, to nowhere here.
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    logging.config.dictConfig(log_config(settings))
    switchboard = create_app(settings)
    baseline = baseline_app(register_tortoise=False)
    key, page_key = orgs["creates"][1], orgs["small"][1]
    calls = _calls(switchboard, baseline, key, page_key)
    # One app serves both settings of compiled execution: the view's switch is set before each path's requests.
    (view,) = [r.endpoint for r in switchboard.routes if isinstance(r, Route) and isinstance(r.endpoint, GraphQLView)]
    counter = Counter() if not args.check else NoCounter()

    async with switchboard.router.lifespan_context(switchboard):
        # The page's organization: PAGE_AGENTS agents, 100 numbers, each with one.
        agents = []
        for n in range(PAGE_AGENTS):
            body = json.dumps({"query": CREATE_AGENT_QUERY, "variables": {"name": f"Agent {n}"}}).encode()
            _, answer = await asgi(switchboard, "POST", "/graphql", body, page_key)
            agents.append(json.loads(answer)["data"]["createAgent"]["agent"]["id"])
        for n in range(100):
            body = json.loads(calls["GraphQL create"].body(900_000 + n))
            body["variables"]["input"]["agentId"] = agents[n % PAGE_AGENTS]
            status, answer = await asgi(switchboard, "POST", "/graphql", json.dumps(body).encode(), page_key)
            assert status == 200 and json.loads(answer)["data"]["createPhoneNumber"]["userErrors"] == [], answer

        serial = 0

        async def requests(call: Call, count: int) -> None:
            nonlocal serial
            view.compiled_execution = call.compiled
            for _ in range(count):
                serial += 1
                status, answer = await asgi(call.app, call.method, call.path, call.body(serial), call.key)
                if status != call.status or b'"userErrors":[{' in answer or b'"errors"' in answer:
                    raise SystemExit(f"{call.method} {call.path} answered {status}: {answer[:500]!r}")

        for call in calls.values():
            await requests(call, args.warmup)
        rows_before = await PhoneNumber.all().count()
        for round in range(args.rounds):
            for name, call in calls.items():
                counter.start()
                await requests(call, args.requests)
                counter.stop_and_dump(f"{name}#{round}")
        created = await PhoneNumber.all().count() - rows_before
    expected = len(CREATES) * args.rounds * args.requests
    if created != expected:
        raise SystemExit(f"the counted creates made {created} rows, not {expected}")


# --- outside ----------------------------------------------------------------------

_LABEL = re.compile(r"^desc: Trigger: Client Request: (.+)$", re.M)
_TOTAL = re.compile(r"^totals: (\d+)", re.M)


def counts(directory: Path) -> dict[str, list[int]]:
    """Instructions of each labelled dump, by path, one entry per round."""
    found: dict[str, list[int]] = {}
    for dump in sorted(
        directory.glob("callgrind.out*"), key=lambda p: int(p.name.rsplit(".", 1)[-1]) if p.name[-1].isdigit() else 0
    ):
        text = dump.read_text(errors="replace")
        label, total = _LABEL.search(text), _TOTAL.search(text)
        if label and total and "#" in label[1]:
            found.setdefault(label[1].rsplit("#", 1)[0], []).append(int(total[1]))
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.run import app_env, database

    if args.check:
        pass
    elif shutil.which("valgrind") is None:
        raise SystemExit("valgrind is required: apt-get install -y valgrind")
    elif not HELPER.exists():
        raise SystemExit(f"{HELPER} is missing: `make bench-instructions` builds it from bench/callgrind.c")
    workdir = Path(tempfile.mkdtemp(prefix="switchboard-instructions-"))
    try:
        with database(args.postgres, workdir) as database_url:
            env = {
                **app_env(database_url, workdir),
                "SWITCHBOARD_LOG_FORMAT": "json",
                "PYTHONHASHSEED": "0",
                # No monitoring: its checks of the numbers made would land in whichever path is being counted.
                "SWITCHBOARD_HEALTH_INTERVAL": "0",
            }
            subprocess.run(
                [sys.executable, "-m", "switchboard.cli", "migrate"], env=env, cwd=REPO, check=True, capture_output=True
            )
            dumps = workdir / "dumps"
            dumps.mkdir()
            valgrind = [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={dumps}/callgrind.out",
            ]
            command = [
                *([] if args.check else valgrind),
                sys.executable, "-m", "bench.instructions", "--inside",
                f"--requests={args.requests}", f"--rounds={args.rounds}", f"--warmup={args.warmup}",
                *(["--check"] if args.check else []),
            ]  # fmt: skip
            result = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit(f"the counted run failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
            if args.check:
                return {"checked": True}
            found = counts(dumps)
            if os.environ.get("BENCH_KEEP_DUMPS"):
                shutil.copytree(dumps, os.environ["BENCH_KEEP_DUMPS"], dirs_exist_ok=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    per_request = {name: [total / args.requests for total in totals] for name, totals in found.items()}
    missing = set(CREATES + PAGES) - set(per_request)
    if missing:
        raise SystemExit(f"no count for {sorted(missing)}")
    return {
        "database": "postgres" if args.postgres else "sqlite",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        "instructions_per_request": {
            name: {"median": round(statistics.median(values)), "min": round(min(values)), "max": round(max(values))}
            for name, values in per_request.items()
        },
        "ratios": {
            name: {
                "median": round(
                    statistics.median(a / b for a, b in zip(per_request[top], per_request[bottom], strict=True)), 3
                ),
                "min": round(min(a / b for a, b in zip(per_request[top], per_request[bottom], strict=True)), 3),
                "max": round(max(a / b for a, b in zip(per_request[top], per_request[bottom], strict=True)), 3),
            }
            for name, (top, bottom) in RATIOS.items()
        },
    }


def table(results: dict[str, Any]) -> str:
    lines = [
        f"Instructions per request ({results['database']}, {results['rounds']} rounds of "
        f"{results['requests_per_round']} requests, {results['when']})",
        "",
        f"{'path':<36} {'median':>12} {'min':>12} {'max':>12}",
    ]
    for name, figure in results["instructions_per_request"].items():
        lines.append(f"{name:<36} {figure['median']:>12,} {figure['min']:>12,} {figure['max']:>12,}")
    lines += ["", f"{'ratio':<36} {'median':>7} {'min':>7} {'max':>7}  target"]
    for name, ratio in results["ratios"].items():
        target = TARGETS.get(name)
        verdict = f"<= {target}  {'met' if ratio['median'] <= target else 'MISSED'}" if target else ""
        lines.append(f"{name:<36} {ratio['median']:>7} {ratio['min']:>7} {ratio['max']:>7}  {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="requests counted per path and round (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every path (default 3)")
    parser.add_argument("--warmup", type=int, default=30, help="requests per path before any is counted (default 30)")
    parser.add_argument("--postgres", metavar="URL", help="run on a fresh database created on this PostgreSQL server")
    parser.add_argument(
        "--output", type=Path, default=BENCH / "results", help="where the JSON goes (default bench/results/)"
    )
    parser.add_argument("--check", action="store_true", help="run every path without valgrind, counting nothing")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inside:
        asyncio.run(_inside(args))
        return
    results = run(args)
    if args.check:
        print("every path answered, every counted create made its row")
        return
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"{results['when'].replace(':', '')}-{results['database']}-instructions.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
