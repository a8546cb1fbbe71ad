"""What monitoring costs the API, and what one check takes, measured as ratios within one run.

    python -m bench.monitoring [--smoke] [--postgres postgres://user@host:5432/db]

Throughput: 1,000 numbers in SIP registration mode, registered against a
local Kamailio (digest REGISTER, then the check's own binding removed), are
monitored by `switchboard serve` with two workers at a 10 s interval on
PostgreSQL, while wrk sends GraphQL creates (Voximplant numbers, which the
monitor adopts and finds UNSUPPORTED without a packet). The same server
with monitoring off is the baseline; a third figure has the server's
monitoring off and a `switchboard monitor` process, pinned to core 1 with
wrk, doing it instead. Rounds alternate the three, each on a
freshly started server (the monitored one runs a whole interval before wrk
starts), and the numbers created in a round are deleted before the next;
the medians are compared. The server is pinned to core 0, wrk and Kamailio
to core 1.

Latency: one check at a time from this process against the same Kamailio
on loopback, REGISTER over UDP and TCP and OPTIONS over UDP; median and
95th percentile of each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.run import (
    LOAD_CORE,
    NOT_STOPPED,
    REPO,
    RESULTS,
    SERVER_CORE,
    Figure,
    Plan,
    database,
    free_port,
    pinned,
    serving,
    wrk,
)

NUMBERS = 1_000
INTERVAL_SECONDS = 10
WORKERS = 2
PASSWORD = "bench-registrar-password-4a1f"
CREATE_QUERY = (
    "mutation Create($input: CreatePhoneNumberInput!) { createPhoneNumber(input: $input) "
    "{ phoneNumber { id number } userErrors { field code message } } }"
)


@dataclass(frozen=True)
class Shape:
    name: str
    seconds: int
    rounds: int
    connections: int
    numbers: int
    latency_checks: int

    @classmethod
    def of(cls, smoke: bool) -> Shape:
        if smoke:
            return cls("smoke", seconds=2, rounds=1, connections=8, numbers=50, latency_checks=20)
        return cls("full", seconds=10, rounds=5, connections=16, numbers=NUMBERS, latency_checks=300)


@contextmanager
def monitoring_process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def group_cpu_seconds(pid: int) -> float:
    """CPU time (user and system) used so far by every process of `pid`'s process group."""
    listed = subprocess.run(
        ["ps", "-o", "pid=", "-g", str(os.getpgid(pid))], capture_output=True, text=True
    ).stdout.split()
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for member in listed:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


@dataclass
class CpuRound:
    """CPU used during one timed run: the server's processes, and the separate monitor's."""

    seconds: float
    creates: int
    server_cpu: float
    monitor_cpu: float = 0.0


def create_body() -> str:
    return json.dumps(
        {"query": CREATE_QUERY, "variables": {"input": {"number": "NUMBER", "provider": {"voximplant": {}}}}}
    )


def pin_group(pid: int, core: str) -> None:
    """Pin a process and every process of its group (Kamailio forks its workers) to `core`."""
    listed = subprocess.run(
        ["ps", "-o", "pid=", "-g", str(os.getpgid(pid))], capture_output=True, text=True
    ).stdout.split()
    for member in listed:
        subprocess.run(["taskset", "-a", "-p", "-c", core, member], capture_output=True)


def registration(port: int, transport: str = "UDP") -> dict[str, Any]:
    return {
        "sip": {
            "registration": {
                "username": "alice",
                "password": PASSWORD,
                "proxy": "127.0.0.1",
                "port": port,
                "registerTransport": transport,
            }
        }
    }


def seed(url: str, key: str, count: int, port: int) -> int:
    made = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        for n in range(count):
            variables = {"input": {"number": f"+1646{3000000 + n:07d}", "provider": registration(port)}}
            payload = client.post("/graphql", json={"query": CREATE_QUERY, "variables": variables}).json()
            made += payload["data"]["createPhoneNumber"]["userErrors"] == []
    return made


async def _sql(database_url: str, query: str, *args: Any) -> Any:
    import asyncpg

    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


def sql(database_url: str, query: str, *args: Any) -> Any:
    return asyncio.run(_sql(database_url, query, *args))


async def _keys(database_url: str) -> dict[str, tuple[str, str]]:
    from tortoise import Tortoise

    from resolvers.api_keys import issue_key
    from switchboard.db import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url))
    try:
        issued = {name: await issue_key(f"Bench {name}") for name in ("monitored", "creates")}
    finally:
        await Tortoise.close_connections()
    return {name: (str(key.organization_id), key.key) for name, key in issued.items()}


async def _latencies(port: int, count: int) -> dict[str, dict[str, float]]:
    from models import SipTransport
    from resolvers.verification import CheckOptions, HealthState, SipAllowlistTarget, SipRegistrationTarget, check

    options = CheckOptions(timeout=5, allow_local_targets=True)
    targets: dict[str, SipRegistrationTarget | SipAllowlistTarget] = {
        "REGISTER over UDP": SipRegistrationTarget(
            "+16463000000", "alice", PASSWORD, "127.0.0.1", None, None, port, SipTransport.UDP
        ),
        "REGISTER over TCP": SipRegistrationTarget(
            "+16463000000", "alice", PASSWORD, "127.0.0.1", None, None, port, SipTransport.TCP
        ),
        "OPTIONS over UDP": SipAllowlistTarget("+16463000000", "127.0.0.1", port, SipTransport.UDP),
    }
    figures = {}
    for name, target in targets.items():
        await check(target, options)  # warm: imports, the TLS-free paths, the registrar's first answer
        times = []
        for _ in range(count):
            started = time.perf_counter()
            result = await check(target, options)
            times.append((time.perf_counter() - started) * 1000)
            if result.state is not HealthState.OK:
                raise SystemExit(f"{name}: the check did not succeed: {result.detail}")
        times.sort()
        figures[name] = {
            "checks": count,
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
        }
    return figures


def run(shape: Shape, postgres: str) -> dict[str, Any]:
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is required: apt-get install -y {'wrk' if tool == 'wrk' else 'util-linux'}")
    from tests.support.kamailio import Kamailio, SipUser, missing

    if (reason := missing()) is not None:
        raise SystemExit(reason)
    workdir = Path(tempfile.mkdtemp(prefix="switchboard-bench-monitoring-"))
    registrar = Kamailio(workdir / "kamailio", users=[SipUser("alice", PASSWORD)])
    registrar.start()
    try:
        assert registrar.process is not None
        pin_group(registrar.process.pid, LOAD_CORE)
        latency = asyncio.run(_latencies(registrar.port, shape.latency_checks))
        with database(postgres, workdir) as database_url:
            throughput = _throughput(shape, database_url, workdir, registrar.port)
    finally:
        registrar.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "shape": asdict(shape),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "single_check_latency": latency,
        **throughput,
    }


def _throughput(shape: Shape, database_url: str, workdir: Path, registrar_port: int) -> dict[str, Any]:
    from models.secrets import generate_key

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "DATABASE_URL"))},
        "DATABASE_URL": database_url,
        "SWITCHBOARD_ENCRYPTION_KEYS": generate_key(),
        "SWITCHBOARD_DATA_DIR": str(workdir / "data"),
        "SWITCHBOARD_WORKERS": str(WORKERS),
        "SWITCHBOARD_RATE_LIMIT": "1000000",
        "SWITCHBOARD_RATE_LIMIT_BURST": "1000000",
        "SWITCHBOARD_MAX_PHONE_NUMBERS_PER_ORGANIZATION": "10000000",
        "SWITCHBOARD_ALLOW_LOCAL_TARGETS": "true",
        # Nothing of the run leaves the machine, whatever a number's provider.
        "SWITCHBOARD_TWILIO_API_URL": "http://127.0.0.1:9",
    }
    subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "migrate"], env=env, cwd=REPO, check=True, capture_output=True
    )
    keys = asyncio.run(_keys(database_url))
    plan = Plan(
        "monitoring",
        seconds=shape.seconds,
        rounds=shape.rounds,
        connections=shape.connections,
        small_org_rows=0,
        large_org_rows=0,
        # Only bench.run's memory figure reads it; this benchmark takes none.
        create_seconds=0,
    )
    off_env = {**env, "SWITCHBOARD_HEALTH_INTERVAL": "0"}
    on_env = {**env, "SWITCHBOARD_HEALTH_INTERVAL": str(INTERVAL_SECONDS)}
    port = free_port()
    command = pinned(SERVER_CORE, sys.executable, "-m", "switchboard.cli", "serve", "--port", str(port))
    url = f"http://127.0.0.1:{port}"

    with serving(command, off_env, port, workdir / "seed.log"):
        seeded = seed(url, keys["monitored"][1], shape.numbers, registrar_port)
        wrk(
            f"{url}/graphql",
            "create.lua",
            plan,
            seconds=2,
            BENCH_PATH="/graphql",
            BENCH_BODY=create_body(),
            BENCH_KEY=keys["creates"][1],
            BENCH_FIRST="9000000",
        )

    names = ("monitoring off", "monitoring on", "separate monitor process")
    figures = {name: Figure(name) for name in names}
    cpu: dict[str, list[CpuRound]] = {name: [] for name in names}
    checked: dict[str, list[int]] = {name: [] for name in names[1:]}
    monitor_command = pinned(LOAD_CORE, sys.executable, "-m", "switchboard.cli", "monitor")
    for round_number in range(shape.rounds):
        for name in names:
            sql(database_url, "DELETE FROM phone_numbers WHERE organization_id = $1::uuid", keys["creates"][0])
            log = workdir / f"{name.replace(' ', '-')}-{round_number}.log"
            with contextlib.ExitStack() as stack:
                server = stack.enter_context(
                    serving(command, on_env if name == "monitoring on" else off_env, port, log)
                )
                monitor = None
                if name == "separate monitor process":
                    monitor = stack.enter_context(
                        monitoring_process(monitor_command, on_env, workdir / f"monitor-{round_number}.log")
                    )
                if name != "monitoring off":
                    time.sleep(INTERVAL_SECONDS + 1)  # every number claimed once: the steady state
                since = datetime.now(UTC)
                started, server_before = time.monotonic(), group_cpu_seconds(server.pid)
                monitor_before = group_cpu_seconds(monitor.pid) if monitor else 0.0
                load = wrk(
                    f"{url}/graphql",
                    "create.lua",
                    plan,
                    BENCH_PATH="/graphql",
                    BENCH_BODY=create_body(),
                    BENCH_KEY=keys["creates"][1],
                    BENCH_FIRST=str(100_000 * (round_number + 1) + 30_000 * names.index(name)),
                )
                cpu[name].append(
                    CpuRound(
                        seconds=time.monotonic() - started,
                        creates=load.requests,
                        server_cpu=group_cpu_seconds(server.pid) - server_before,
                        monitor_cpu=group_cpu_seconds(monitor.pid) - monitor_before if monitor else 0.0,
                    )
                )
                figures[name].loads.append(load)
                if name != "monitoring off":
                    checked[name].append(
                        sql(
                            database_url,
                            "SELECT count(*) FROM phone_number_health"
                            " WHERE organization_id = $1::uuid AND checked_at >= $2",
                            keys["monitored"][0],
                            since,
                        )
                    )
    states = sql(
        database_url,
        "SELECT json_object_agg(coalesce(state, 'none'), n) FROM (SELECT state, count(*) AS n FROM phone_number_health "
        "WHERE organization_id = $1::uuid GROUP BY state) s",
        keys["monitored"][0],
    )
    off, on, apart = figures["monitoring off"], figures["monitoring on"], figures["separate monitor process"]
    return {
        "cpu": cpu_figures(cpu, checked),
        "database": "postgres",
        "monitored_numbers": seeded,
        "interval_seconds": INTERVAL_SECONDS,
        "workers": WORKERS,
        "figures": {name: figure.summary() for name, figure in figures.items()},
        "monitored_numbers_checked_during_each_timed_run": checked,
        "monitored_states_at_end": json.loads(states) if states else {},
        "servers_not_stopped_within_60_s": NOT_STOPPED,
        "ratios": {
            "create_throughput_on_vs_off": round(on.rps / off.rps, 3),
            "create_p99_on_vs_off": round(on.percentile_ms("p99_us") / off.percentile_ms("p99_us"), 3),
            "create_throughput_separate_monitor_vs_off": round(apart.rps / off.rps, 3),
        },
    }


def cpu_figures(cpu: dict[str, list[CpuRound]], checked: dict[str, list[int]]) -> dict[str, Any]:
    """What monitoring costs in CPU, which a busy machine's noise in throughput does not hide.

    In-process: the server's CPU beyond what its creates cost with monitoring
    off (CPU per create, median of the off rounds), as a share of the timed
    run: the part of its core the monitors took. Separately: the monitor
    process's own CPU, per second and per check. The server's core is
    saturated by wrk in every run, so with monitoring inside it, that share
    is what the creates lose.
    """
    per_create = statistics.median(r.server_cpu / r.creates for r in cpu["monitoring off"] if r.creates)
    inside = [(r.server_cpu - r.creates * per_create) / r.seconds for r in cpu["monitoring on"]]
    apart = [r.monitor_cpu / r.seconds for r in cpu["separate monitor process"]]
    per_check = [
        r.monitor_cpu / n * 1000
        for r, n in zip(cpu["separate monitor process"], checked["separate monitor process"], strict=True)
        if n
    ]
    return {
        "server_cpu_ms_per_create_monitoring_off": round(per_create * 1000, 3),
        "monitoring_share_of_the_server_core_inside_serve": [round(x, 3) for x in inside],
        "monitor_process_share_of_a_core": [round(x, 3) for x in apart],
        "monitor_process_cpu_ms_per_check": [round(x, 3) for x in per_check],
        "rounds": {name: [asdict(r) for r in rounds] for name, rounds in cpu.items()},
    }


def table(results: dict[str, Any]) -> str:
    lines = [
        f"monitoring: {results['monitored_numbers']} numbers, {results['workers']} workers, "
        f"{results['interval_seconds']} s interval, PostgreSQL"
    ]
    for name, figure in results["figures"].items():
        lines.append(
            f"  {name:26} {figure['requests_per_second']:9.1f} creates/s  p50 {figure['p50_ms']:7.2f} ms  "
            f"p99 {figure['p99_ms']:7.2f} ms  non-2xx {figure['non_2xx']}"
        )
    ratios = results["ratios"]
    cost = (1 - ratios["create_throughput_on_vs_off"]) * 100
    lines.append(
        f"  create throughput, on / off: {ratios['create_throughput_on_vs_off']:.3f} "
        f"(monitoring costs {cost:.1f}%; target < 10%)"
    )
    lines.append(f"  create p99, on / off: {ratios['create_p99_on_vs_off']:.3f}")
    lines.append(
        "  create throughput, separate `switchboard monitor` on core 1 / off: "
        f"{ratios['create_throughput_separate_monitor_vs_off']:.3f}"
    )
    lines.append(
        "  monitored numbers checked during each timed run: "
        f"{results['monitored_numbers_checked_during_each_timed_run']}"
    )
    lines.append(f"  their states at the end: {results['monitored_states_at_end']}")
    cpu = results["cpu"]
    inside = cpu["monitoring_share_of_the_server_core_inside_serve"]
    apart = cpu["monitor_process_share_of_a_core"]
    lines.append(
        f"  CPU: a create costs the server {cpu['server_cpu_ms_per_create_monitoring_off']:.2f} ms; monitoring inside "
        f"serve took {statistics.median(inside) * 100:.1f}% of the server's core (rounds: "
        f"{', '.join(f'{x * 100:.1f}' for x in inside)}); the separate monitor process "
        f"{statistics.median(apart) * 100:.1f}% of a core, "
        f"{statistics.median(cpu['monitor_process_cpu_ms_per_check'] or [0]):.2f} ms per check"
    )
    if results["servers_not_stopped_within_60_s"]:
        lines.append(
            f"  servers killed after not stopping within 60 s of SIGTERM: {results['servers_not_stopped_within_60_s']}"
        )
    lines.append("single check on loopback (Kamailio), one at a time:")
    for name, figure in results["single_check_latency"].items():
        lines.append(
            f"  {name:18} median {figure['median_ms']:6.2f} ms  p95 {figure['p95_ms']:6.2f} ms  "
            f"({figure['checks']} checks)"
        )
    return "\n".join(lines)


def unavailable(postgres: str) -> str | None:
    """Why this benchmark cannot run here, or None."""
    from tests.support.kamailio import missing

    if (reason := missing()) is not None:
        return reason
    try:
        sql(postgres, "SELECT 1")
    except (TimeoutError, OSError) as error:
        return f"no PostgreSQL server answers at {postgres} ({type(error).__name__})"
    except Exception as error:  # asyncpg's own errors: a refused login, an unknown database
        return f"PostgreSQL at {postgres} refused the connection ({type(error).__name__})"
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.monitoring", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--smoke", action="store_true", help="a few seconds, to check the harness works; figures mean nothing"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("TEST_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server to create the run's database on (default TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the JSON goes (default bench/results/)")
    parser.add_argument(
        "--unless-unavailable",
        action="store_true",
        help="when Kamailio or the PostgreSQL server is missing, say so and exit 0 (what `make bench` runs)",
    )
    args = parser.parse_args(argv)
    if args.unless_unavailable and (reason := unavailable(args.postgres)) is not None:
        print(f"monitoring benchmark skipped: {reason}; `make bench-monitoring` runs it (docs/benchmarks.md)")
        return

    results = run(Shape.of(args.smoke), args.postgres)
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"{results['when'].replace(':', '')}-monitoring-{results['shape']['name']}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
