"""Switchboard's cost over a bare insert, measured as ratios within one run.

    python -m bench.run [--smoke] [--postgres postgres://user@host:5432/db]

Serves the baseline (bench/baseline.py) and `switchboard serve` side by side,
each pinned to core 0 with uvloop and httptools, one worker, no access log,
and loads them in turn with wrk pinned to core 1. A second `switchboard
serve` with SWITCHBOARD_COMPILED_EXECUTION=false gives each GraphQL figure
(the create, the page of 100) with compiled execution off too. Phases alternate over
several rounds so drift on a shared machine falls on both sides alike; the
medians are compared. Prints a table and writes JSON and a PNG chart under
bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
SERVER_CORE, LOAD_CORE = "0", "1"

CREATE_QUERY = (
    "mutation Create($input: CreatePhoneNumberInput!) { createPhoneNumber(input: $input) "
    "{ phoneNumber { id number } userErrors { field code message } } }"
)
LIST_QUERY = (
    "{ phoneNumbers(first: 50) { pageInfo { hasNextPage endCursor } "
    "edges { node { id number name provider createdAt } } } }"
)
# The first page of 100 with each number's configuration and agent: what bench/baseline.py's /page answers.
PAGE_QUERY = (
    "query Page { phoneNumbers(first: 100) { pageInfo { hasNextPage endCursor } edges { node { id number name provider "
    "createdAt config { ... on TwilioConfig { accountSid authTokenSet } } agent { id name } } } } }"
)
CREATE_AGENT_QUERY = (
    "mutation Agent($name: String!) { createAgent(input: {name: $name}) { agent { id } userErrors { code } } }"
)
# The numbers of the page organization take turns among this many agents.
PAGE_AGENTS = 10
CREATE_OFF, PAGE_OFF = "GraphQL create, compiled off", "page of 100: GraphQL, compiled off"
PAGE_FIGURES = ("page of 100: bare SELECT", "page of 100: GraphQL", PAGE_OFF, "page of 100: REST list")
TWILIO = {"accountSid": "AC" + "0123456789abcdef" * 2, "authToken": "bench-auth-token-0123456789abcdef"}


@dataclass(frozen=True)
class Plan:
    name: str
    seconds: int
    rounds: int
    connections: int
    small_org_rows: int
    large_org_rows: int
    # The memory figure is taken over the creates made in this time, at most large_org_rows of them;
    # rows still missing then are inserted in bulk (PostgreSQL's creates queue on the organization's row).
    create_seconds: int

    @classmethod
    def of(cls, smoke: bool) -> Plan:
        if smoke:
            return cls(
                "smoke", seconds=1, rounds=1, connections=8, small_org_rows=100, large_org_rows=1_000, create_seconds=60
            )
        return cls(
            "full", seconds=8, rounds=3, connections=16, small_org_rows=100, large_org_rows=100_000, create_seconds=300
        )


@dataclass
class Load:
    requests: int
    duration_us: int
    status_errors: int
    socket_errors: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6)


@dataclass
class Figure:
    name: str
    loads: list[Load] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return float(statistics.median(load.rps for load in self.loads))

    def percentile_ms(self, key: str) -> float:
        return float(statistics.median(getattr(load, key) for load in self.loads)) / 1000

    def summary(self) -> dict[str, Any]:
        return {
            "requests_per_second": round(self.rps, 1),
            "p50_ms": round(self.percentile_ms("p50_us"), 2),
            "p99_ms": round(self.percentile_ms("p99_us"), 2),
            "requests": sum(load.requests for load in self.loads),
            "non_2xx": sum(load.status_errors for load in self.loads),
            "socket_errors": sum(load.socket_errors for load in self.loads),
            "rounds": [asdict(load) for load in self.loads],
        }


# --- processes ------------------------------------------------------------------


def pinned(core: str, *command: str) -> list[str]:
    return ["taskset", "-c", core, *command]


# Logs of servers that did not stop within 60 s of SIGTERM, kept in RESULTS for a look.
NOT_STOPPED: list[str] = []


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A server on `port`, once it answers; SIGTERM after, and one that does not stop in 60 s is killed.

    Its own process group, so that killing it takes its workers too. A server
    killed so is counted in NOT_STOPPED and its log kept, rather than losing
    the run's figures.
    """
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{command[3:]} exited while starting:\n{log.read_text()[-3000:]}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{command[3:]} did not start:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            RESULTS.mkdir(parents=True, exist_ok=True)
            kept = RESULTS / f"not-stopped-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{log.name}"
            shutil.copyfile(log, kept)
            NOT_STOPPED.append(str(kept))
            print(f"the server did not stop within 60 s of SIGTERM; killed; its log: {kept}", file=sys.stderr)


def wrk(
    url: str, script: str, plan: Plan, *, seconds: int | None = None, connections: int | None = None, **env: str
) -> Load:
    command = pinned(
        LOAD_CORE,
        "wrk",
        "-t1",
        f"-c{connections or plan.connections}",
        f"-d{seconds or plan.seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(BENCH / "wrk" / script),
        url,
    )
    result = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=True)
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH "))
    return Load(**json.loads(line.removeprefix("BENCH ")))


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- the database ---------------------------------------------------------------


@contextmanager
def database(postgres: str | None, workdir: Path) -> Iterator[str]:
    if postgres is None:
        yield f"sqlite://{workdir / 'bench.sqlite3'}"
        return
    name = f"switchboard_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_execute(postgres, f'CREATE DATABASE "{name}"'))
    try:
        yield postgres.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(_execute(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _organizations(database_url: str) -> dict[str, tuple[uuid.UUID, str]]:
    from tortoise import Tortoise

    from resolvers.api_keys import issue_key
    from switchboard.db import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url))
    try:
        issued = {name: await issue_key(f"Bench {name}") for name in ("baseline", "creates", "small", "large")}
    finally:
        await Tortoise.close_connections()
    return {name: (key.organization_id, key.key) for name, key in issued.items()}


async def _count_rows(database_url: str, organization_id: uuid.UUID) -> int:
    from tortoise import Tortoise

    from models import PhoneNumber
    from switchboard.db import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url))
    try:
        return await PhoneNumber.filter(organization_id=organization_id).count()
    finally:
        await Tortoise.close_connections()


async def _fill(database_url: str, organization_id: uuid.UUID, rows: int) -> int:
    """Insert `rows` Twilio numbers in bulk, for the list figures; returns how many."""
    from tortoise import Tortoise

    from models import PhoneNumber, Provider
    from switchboard.db import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url))
    try:
        for start in range(0, rows, 1000):
            batch = [
                PhoneNumber(
                    organization_id=organization_id,
                    number=f"+1718{2000000 + n:07d}",
                    provider=Provider.TWILIO,
                    twilio_account_sid=TWILIO["accountSid"],
                    twilio_auth_token_encrypted=TWILIO["authToken"],  # never read back by the list figures
                )
                for n in range(start, min(start + 1000, rows))
            ]
            await PhoneNumber.bulk_create(batch)
    finally:
        await Tortoise.close_connections()
    return rows


# --- the run --------------------------------------------------------------------


def seed(url: str, key: str, rows: int) -> int:
    """Create PAGE_AGENTS agents and `rows` numbers, each with an agent, one request at a time.

    Returns the numbers made.
    """
    made = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        agents = []
        for n in range(PAGE_AGENTS):
            body = {"query": CREATE_AGENT_QUERY, "variables": {"name": f"Agent {n}"}}
            agents.append(client.post("/graphql", json=body).json()["data"]["createAgent"]["agent"]["id"])
        for n in range(rows):
            body = json.loads(create_body(f"+1646{2000000 + n:07d}"))
            body["variables"]["input"]["agentId"] = agents[n % PAGE_AGENTS]
            payload = client.post("/graphql", json=body).json()["data"]["createPhoneNumber"]
            made += payload["userErrors"] == []
    return made


def create_body(number_placeholder: str = "NUMBER") -> str:
    return json.dumps(
        {"query": CREATE_QUERY, "variables": {"input": {"number": number_placeholder, "provider": {"twilio": TWILIO}}}}
    )


def rest_body() -> str:
    return json.dumps(
        {
            "number": "NUMBER",
            "provider": "twilio",
            "twilioAccountSid": TWILIO["accountSid"],
            "twilioAuthToken": TWILIO["authToken"],
        }
    )


def run(plan: Plan, postgres: str | None) -> dict[str, Any]:
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is required: apt-get install -y {'wrk' if tool == 'wrk' else 'util-linux'}")
    workdir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    try:
        with database(postgres, workdir) as database_url:
            return _measure(plan, database_url, workdir, "postgres" if postgres else "sqlite")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def app_env(database_url: str, workdir: Path) -> dict[str, str]:
    """The environment Switchboard is measured in: this one's, less any SWITCHBOARD_ setting, plus these."""
    from models.secrets import generate_key

    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "DATABASE_URL"))},
        "DATABASE_URL": database_url,
        "SWITCHBOARD_ENCRYPTION_KEYS": generate_key(),
        "SWITCHBOARD_DATA_DIR": str(workdir / "data"),
        "SWITCHBOARD_WORKERS": "1",
        # The per-key limit still runs on every request, set high enough that
        # it measures the server, not the limit.
        "SWITCHBOARD_RATE_LIMIT": "1000000",
        "SWITCHBOARD_RATE_LIMIT_BURST": "1000000",
        # The organizations below grow past the default 10,000 numbers.
        "SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION": "10000000",
        # The API alone: monitoring would check the numbers the run makes, in whichever figure is
        # being measured (what it costs creates is bench/monitoring.py's measure).
        "SWITCHBOARD_HEALTH_INTERVAL": "0",
    }


def _measure(plan: Plan, database_url: str, workdir: Path, backend: str) -> dict[str, Any]:
    env = app_env(database_url, workdir)
    subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "migrate"], env=env, cwd=REPO, check=True, capture_output=True
    )
    orgs = asyncio.run(_organizations(database_url))

    base_port, app_port = free_port(), free_port()
    baseline_command = pinned(
        SERVER_CORE,
        sys.executable,
        "-m",
        "uvicorn",
        "bench.baseline:create_app",
        "--factory",
        "--port",
        str(base_port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    )
    app_command = pinned(SERVER_CORE, sys.executable, "-m", "switchboard.cli", "serve", "--port", str(app_port))
    off_port = free_port()
    off_command = pinned(SERVER_CORE, sys.executable, "-m", "switchboard.cli", "serve", "--port", str(off_port))
    off_env = {**env, "SWITCHBOARD_COMPILED_EXECUTION": "false"}
    base_env = {
        **env,
        "BENCH_ORGANIZATION_ID": str(orgs["baseline"][0]),
        "BENCH_PAGE_ORGANIZATION_ID": str(orgs["small"][0]),
    }
    figures = {
        name: Figure(name)
        for name in ("baseline insert", "GraphQL create", CREATE_OFF, "REST create", "generator ceiling (/healthz)")
    }
    pages = {name: Figure(name) for name in PAGE_FIGURES}
    results: dict[str, Any] = {}

    with (
        serving(baseline_command, base_env, base_port, workdir / "baseline.log"),
        serving(app_command, env, app_port, workdir / "switchboard.log") as app,
        serving(off_command, off_env, off_port, workdir / "switchboard-off.log"),
    ):
        base_url, app_url = f"http://127.0.0.1:{base_port}", f"http://127.0.0.1:{app_port}"
        off_url = f"http://127.0.0.1:{off_port}"
        # Warm both up (imports, caches, connections) before anything counts.
        wrk(
            f"{base_url}/insert",
            "create.lua",
            plan,
            seconds=1,
            BENCH_PATH="/insert",
            BENCH_BODY=create_body(),
            BENCH_FIRST="5000000",
        )
        for url, first in ((app_url, "5000000"), (off_url, "6000000")):
            wrk(
                f"{url}/graphql",
                "create.lua",
                plan,
                seconds=1,
                BENCH_PATH="/graphql",
                BENCH_BODY=create_body(),
                BENCH_KEY=orgs["creates"][1],
                BENCH_FIRST=first,
            )

        rows_before = asyncio.run(_count_rows(database_url, orgs["creates"][0]))
        offset = 0
        for _ in range(plan.rounds):
            offset += 100_000
            figures["baseline insert"].loads.append(
                wrk(
                    f"{base_url}/insert",
                    "create.lua",
                    plan,
                    BENCH_PATH="/insert",
                    BENCH_BODY=create_body(),
                    BENCH_FIRST=str(offset),
                )
            )
            figures["GraphQL create"].loads.append(
                wrk(
                    f"{app_url}/graphql",
                    "create.lua",
                    plan,
                    BENCH_PATH="/graphql",
                    BENCH_BODY=create_body(),
                    BENCH_KEY=orgs["creates"][1],
                    BENCH_FIRST=str(offset),
                )
            )
            figures[CREATE_OFF].loads.append(
                wrk(
                    f"{off_url}/graphql",
                    "create.lua",
                    plan,
                    BENCH_PATH="/graphql",
                    BENCH_BODY=create_body(),
                    BENCH_KEY=orgs["creates"][1],
                    BENCH_FIRST=str(offset + 25_000),
                )
            )
            figures["REST create"].loads.append(
                wrk(
                    f"{app_url}/v1/phone-numbers",
                    "create.lua",
                    plan,
                    BENCH_PATH="/v1/phone-numbers",
                    BENCH_BODY=rest_body(),
                    BENCH_KEY=orgs["creates"][1],
                    BENCH_FIRST=str(offset + 50_000),
                )
            )
            figures["generator ceiling (/healthz)"].loads.append(
                wrk(f"{app_url}/healthz", "post.lua", plan, BENCH_PATH="/healthz")
            )

        created = asyncio.run(_count_rows(database_url, orgs["creates"][0])) - rows_before
        answered = sum(
            load.requests for name in ("GraphQL create", CREATE_OFF, "REST create") for load in figures[name].loads
        )

        small_rows = seed(app_url, orgs["small"][1], plan.small_org_rows)

        # The page of 100 with configurations and agents, against a bare SELECT of the same rows in the same run.
        page_loads = {
            "page of 100: bare SELECT": (f"{base_url}/page", "/page", ""),
            "page of 100: GraphQL": (f"{app_url}/graphql", "/graphql", json.dumps({"query": PAGE_QUERY})),
            PAGE_OFF: (f"{off_url}/graphql", "/graphql", json.dumps({"query": PAGE_QUERY})),
            "page of 100: REST list": (f"{app_url}/v1/phone-numbers?limit=100", "/v1/phone-numbers?limit=100", ""),
        }
        for url, path, body in page_loads.values():  # warm-up
            wrk(
                url,
                "post.lua",
                plan,
                seconds=1,
                connections=4,
                BENCH_PATH=path,
                BENCH_BODY=body,
                BENCH_KEY=orgs["small"][1],
            )
        for _ in range(plan.rounds):
            for name, (url, path, body) in page_loads.items():
                pages[name].loads.append(
                    wrk(
                        url,
                        "post.lua",
                        plan,
                        connections=4,
                        BENCH_PATH=path,
                        BENCH_BODY=body,
                        BENCH_KEY=orgs["small"][1],
                    )
                )

        # Memory over the large organization's creates, after everything above warmed the process.
        # wrk runs for a fixed time, so it runs in bursts until the organization has its rows.
        before = resident_mb(app.pid)
        large_rows, burst = 0, 0
        deadline = time.monotonic() + plan.create_seconds
        while large_rows < plan.large_org_rows and (burst == 0 or time.monotonic() < deadline):
            burst += 1
            wrk(
                f"{app_url}/graphql",
                "create.lua",
                plan,
                seconds=5,
                BENCH_PATH="/graphql",
                BENCH_BODY=create_body(),
                BENCH_KEY=orgs["large"][1],
                BENCH_FIRST=str(burst * 50_000),
            )
            large_rows = asyncio.run(_count_rows(database_url, orgs["large"][0]))
        after = resident_mb(app.pid)
        api_creates = large_rows
        if large_rows < plan.large_org_rows:
            large_rows += asyncio.run(_fill(database_url, orgs["large"][0], plan.large_org_rows - large_rows))

        list_body = json.dumps({"query": LIST_QUERY})
        lists = {f"first page, {small_rows} rows": Figure("small"), f"first page, {large_rows} rows": Figure("large")}
        small_list, large_list = lists.values()
        # A page costs milliseconds of CPU, so a few connections keep the server busy without
        # queueing; more rounds, alternating, because one page's cost is what is compared.
        for _ in range(plan.rounds + 2):
            for figure, key in ((small_list, orgs["small"][1]), (large_list, orgs["large"][1])):
                figure.loads.append(
                    wrk(
                        f"{app_url}/graphql",
                        "post.lua",
                        plan,
                        connections=4,
                        BENCH_PATH="/graphql",
                        BENCH_BODY=list_body,
                        BENCH_KEY=key,
                    )
                )

    baseline, graphql, rest = figures["baseline insert"], figures["GraphQL create"], figures["REST create"]
    results = {
        "plan": asdict(plan),
        "database": backend,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "figures": {name: figure.summary() for name, figure in figures.items()}
        | {name: figure.summary() for name, figure in pages.items()}
        | {name: figure.summary() for name, figure in lists.items()},
        "checks": {
            "rows_created_by_timed_creates": created,
            "timed_create_responses": answered,
            "small_org_rows": small_rows,
            "large_org_rows": large_rows,
        },
        "ratios": {
            "graphql_create_throughput_vs_baseline": round(graphql.rps / baseline.rps, 3),
            "graphql_create_p99_vs_baseline": round(
                graphql.percentile_ms("p99_us") / baseline.percentile_ms("p99_us"), 3
            ),
            "graphql_create_compiled_off_throughput_vs_baseline": round(figures[CREATE_OFF].rps / baseline.rps, 3),
            "rest_create_throughput_vs_baseline": round(rest.rps / baseline.rps, 3),
            "rest_create_p99_vs_baseline": round(rest.percentile_ms("p99_us") / baseline.percentile_ms("p99_us"), 3),
            "first_page_p50_large_vs_small": round(
                large_list.percentile_ms("p50_us") / small_list.percentile_ms("p50_us"), 3
            ),
            "first_page_throughput_small_vs_large": round(small_list.rps / large_list.rps, 3),
            "generator_ceiling_vs_graphql_create": round(figures["generator ceiling (/healthz)"].rps / graphql.rps, 1),
            "graphql_page_throughput_vs_select": round(
                pages["page of 100: GraphQL"].rps / pages["page of 100: bare SELECT"].rps, 3
            ),
            "graphql_page_compiled_off_throughput_vs_select": round(
                pages[PAGE_OFF].rps / pages["page of 100: bare SELECT"].rps, 3
            ),
            "rest_page_throughput_vs_select": round(
                pages["page of 100: REST list"].rps / pages["page of 100: bare SELECT"].rps, 3
            ),
        },
        # Each ratio round by round (the rounds alternate their phases): the lowest and highest.
        "ratio_spread": {
            "graphql_create_throughput_vs_baseline": spread(graphql, baseline, "rps"),
            "graphql_create_p99_vs_baseline": spread(graphql, baseline, "p99_us"),
            "rest_create_throughput_vs_baseline": spread(rest, baseline, "rps"),
            "rest_create_p99_vs_baseline": spread(rest, baseline, "p99_us"),
            "graphql_create_compiled_off_throughput_vs_baseline": spread(figures[CREATE_OFF], baseline, "rps"),
            "graphql_page_throughput_vs_select": spread(
                pages["page of 100: GraphQL"], pages["page of 100: bare SELECT"], "rps"
            ),
            "graphql_page_compiled_off_throughput_vs_select": spread(
                pages[PAGE_OFF], pages["page of 100: bare SELECT"], "rps"
            ),
            "rest_page_throughput_vs_select": spread(
                pages["page of 100: REST list"], pages["page of 100: bare SELECT"], "rps"
            ),
        },
        "memory": {
            "creates": api_creates,
            "resident_mb_before": round(before, 1),
            "resident_mb_after": round(after, 1),
            "growth_mb": round(after - before, 1),
        },
    }
    return results


def spread(figure: Figure, baseline: Figure, key: str) -> list[float]:
    """The lowest and highest of figure/baseline taken round by round."""
    ratios = [getattr(a, key) / getattr(b, key) for a, b in zip(figure.loads, baseline.loads, strict=True)]
    return [round(min(ratios), 3), round(max(ratios), 3)]


TARGETS = {
    "graphql_create_throughput_vs_baseline": (">=", 0.75),
    "graphql_create_p99_vs_baseline": ("<=", 1.5),
    "first_page_p50_large_vs_small": ("<=", 1.3),
    "rest_create_throughput_vs_baseline": (">=", 0.8),
    "graphql_page_throughput_vs_select": (">=", 0.5),
}


def table(results: dict[str, Any]) -> str:
    lines = [f"Switchboard benchmark ({results['plan']['name']}, {results['database']}, {results['when']})", ""]
    lines.append(f"{'figure':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, figure in results["figures"].items():
        lines.append(
            f"{name:<34} {figure['requests_per_second']:>9.1f} {figure['p50_ms']:>8.2f} "
            f"{figure['p99_ms']:>8.2f} {figure['non_2xx']:>8}"
        )
    lines += ["", f"{'ratio':<50} {'median':>7} {'rounds':>13}  target"]
    for name, value in results["ratios"].items():
        op, target = TARGETS.get(name, ("", None))
        verdict = ""
        if target is not None:
            met = value >= target if op == ">=" else value <= target
            verdict = f"{op} {target}  {'met' if met else 'MISSED'}"
        low_high = results["ratio_spread"].get(name)
        rounds = f"{low_high[0]}-{low_high[1]}" if low_high else ""
        lines.append(f"{name:<50} {value:>7} {rounds:>13}  {verdict}")
    memory = results["memory"]
    met = "met" if memory["growth_mb"] <= 20 else "MISSED"
    lines += [
        "",
        f"resident memory over {memory['creates']} creates: {memory['resident_mb_before']} MB -> "
        f"{memory['resident_mb_after']} MB (growth {memory['growth_mb']} MB; target <= 20 MB, {met})",
        f"checks: {results['checks']}",
    ]
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["figures"])
    rps = [results["figures"][n]["requests_per_second"] for n in names]
    p99 = [results["figures"][n]["p99_ms"] for n in names]
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    left.barh(names, rps, color="#3b7dd8")
    left.set_xlabel("requests per second (median of rounds)")
    right.barh(names, p99, color="#d8743b")
    right.set_xlabel("p99 latency, ms")
    right.set_yticks([])
    figure.suptitle(f"Switchboard benchmark - {results['database']}, {results['plan']['name']} run, {results['when']}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--smoke", action="store_true", help="a few seconds, to check the harness works; figures mean nothing"
    )
    parser.add_argument("--postgres", metavar="URL", help="run on a fresh database created on this PostgreSQL server")
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="where the JSON and PNG go (default bench/results/)"
    )
    args = parser.parse_args(argv)

    results = run(Plan.of(args.smoke), args.postgres)
    args.output.mkdir(parents=True, exist_ok=True)
    stem = f"{results['when'].replace(':', '')}-{results['database']}-{results['plan']['name']}"
    (args.output / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    chart(results, args.output / f"{stem}.png")
    print(table(results))
    print(f"\nwritten: {args.output / stem}.json and .png")


if __name__ == "__main__":
    main()
