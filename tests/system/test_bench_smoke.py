"""`make bench` keeps working: the harness in smoke mode. It asserts nothing about speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO
from tests.support.database import TEST_DATABASE_URL
from tests.support.tooling import program

FIGURES = {
    "baseline insert",
    "GraphQL create",
    "GraphQL create, compiled off",
    "REST create",
    "generator ceiling (/healthz)",
    "page of 100: bare SELECT",
    "page of 100: GraphQL",
    "page of 100: GraphQL, compiled off",
    "page of 100: REST list",
}


def test_benchmark_runs_end_to_end_in_smoke_mode(tmp_path: Path) -> None:
    program("wrk", "the benchmark")
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--output", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (report,) = tmp_path.glob("*.json")
    assert report.with_suffix(".png").stat().st_size > 10_000
    results = json.loads(report.read_text())

    assert set(results["figures"]) >= FIGURES
    lists = [name for name in results["figures"] if name.startswith("first page")]
    assert lists == ["first page, 100 rows", f"first page, {results['checks']['large_org_rows']} rows"]
    for name, figure in results["figures"].items():
        assert figure["requests"] > 0 and figure["non_2xx"] == 0 and figure["socket_errors"] == 0, name
    # Every timed create made its row (a 200 with userErrors would not).
    checks = results["checks"]
    assert checks["small_org_rows"] == 100
    assert checks["large_org_rows"] >= 1_000
    assert checks["rows_created_by_timed_creates"] >= checks["timed_create_responses"]
    assert set(results["ratios"]) >= {
        "graphql_create_throughput_vs_baseline",
        "graphql_create_p99_vs_baseline",
        "first_page_p50_large_vs_small",
        "graphql_page_throughput_vs_select",
        "graphql_page_compiled_off_throughput_vs_select",
        "graphql_create_compiled_off_throughput_vs_baseline",
        "rest_page_throughput_vs_select",
    }
    # Each ratio against a baseline carries its lowest and highest over the rounds.
    for name, (low, high) in results["ratio_spread"].items():
        assert 0 < low <= high, name
    assert 0 < results["memory"]["creates"] <= checks["large_org_rows"]
    assert "graphql_create_throughput_vs_baseline" in result.stdout


def test_the_instruction_count_harness_runs_every_path_without_valgrind() -> None:
    """`make bench-instructions` keeps working: its paths answer and its creates make rows (--check counts nothing)."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.instructions", "--check", "--requests", "2", "--rounds", "1", "--warmup", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "every path answered" in result.stdout


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="the monitoring benchmark runs on PostgreSQL: set TEST_DATABASE_URL")
def test_the_monitoring_benchmark_runs_end_to_end_in_smoke_mode(tmp_path: Path) -> None:
    """`make bench`'s second part (and `make bench-monitoring`): Kamailio, PostgreSQL, three server setups."""
    program("wrk", "the benchmark")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.monitoring",
            "--smoke",
            "--postgres",
            TEST_DATABASE_URL,
            "--output",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (report,) = tmp_path.glob("*-monitoring-smoke.json")
    results = json.loads(report.read_text())
    assert results["monitored_numbers"] == 50
    for name, figure in results["figures"].items():
        assert figure["requests"] > 0 and figure["non_2xx"] == 0 and figure["socket_errors"] == 0, name
    # Each monitoring setup checked the registered numbers against Kamailio, and stopped when asked.
    assert results["monitored_states_at_end"] == {"ok": 50}
    assert results["servers_not_stopped_within_60_s"] == []
    cpu = results["cpu"]
    assert cpu["server_cpu_ms_per_create_monitoring_off"] > 0
    assert (
        len(cpu["monitoring_share_of_the_server_core_inside_serve"]) == len(cpu["monitor_process_share_of_a_core"]) == 1
    )
    assert "create throughput, on / off" in result.stdout and "CPU: a create costs the server" in result.stdout


def test_make_bench_goes_on_without_what_the_monitoring_benchmark_needs() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.monitoring",
            "--unless-unavailable",
            "--postgres",
            "postgres://postgres@127.0.0.1:1/none",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("monitoring benchmark skipped: ")
