"""The typed clients of clients/, generated from schema.graphql and run against a real server.

clients/typescript: GraphQL Code Generator, `tsc --noEmit`, the program run
with tsx; it sends documents by id, and codegen's manifest of them is all a
server of trusted documents only needs to run it. clients/python: ariadne-codegen in a venv of its own, the example
run with it. Both print the same round trip, the one clients/README.md
shows; each runs twice in a row with one key, in an organization that
already holds the numbers of the documented examples, and leaves it as it was.

The check of the documented output, without a server, is in tests/unit/test_clients_readme.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO
from tests.support.clients import FICTIONAL_RANGES, created_by, expected_output
from tests.support.examples import documented_example_numbers, graphiql_example_number
from tests.support.secret_sweep import SWEEP
from tests.support.servers import Server, create_api_key, first_run_environment, post, serving
from tests.support.tooling import check, client_venv, npm_project

TYPESCRIPT = REPO / "clients" / "typescript"
PYTHON = REPO / "clients" / "python"
TYPE_TEST = TYPESCRIPT / "src" / "one-of.type-test.ts"

ORGANIZATION = """{ phoneNumbers(first: 100) { totalCount edges { node { id number name agent { id } } } }
  agents(first: 100) { totalCount edges { node { id name } } } }"""
CREATE = """mutation($number: String!) {
  createPhoneNumber(input: {number: $number, provider: {voximplant: {}}}) { userErrors { code } } }"""
# The ranges set aside for fiction each example client draws from, by provider in the order it creates them:
# NANPA's 555-0100 to 0199, Ofcom's drama ranges of Manchester and Leeds, ARCEP's 01 99 00, ACMA's (02) 5550.
# The secrets the clients send; they print whether one is stored, never the value.
CLIENT_SECRETS = (
    "example-twilio-auth-token",
    "example-sip-password",
    "example-rotated-auth-token",
    "example-sip-password-2",
)

Program = Callable[[dict[str, str]], subprocess.CompletedProcess[str]]


def run_in(directory: Path, *command: str) -> Program:
    def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(command), cwd=directory, env=env, capture_output=True, text=True, timeout=120)

    return run


@pytest.fixture(scope="module")
def typescript_client() -> Program:
    npm_project(TYPESCRIPT)
    shutil.rmtree(TYPESCRIPT / "src" / "generated", ignore_errors=True)
    check(["npm", "run", "--silent", "codegen"], cwd=TYPESCRIPT)
    assert (TYPESCRIPT / "src" / "generated" / "graphql.ts").is_file()
    return run_in(TYPESCRIPT, "npm", "run", "--silent", "start")


@pytest.fixture(scope="module")
def python_client() -> Program:
    venv_bin = client_venv(PYTHON)
    shutil.rmtree(PYTHON / "switchboard_client", ignore_errors=True)
    check([str(venv_bin / "ariadne-codegen")], cwd=PYTHON)
    assert (PYTHON / "switchboard_client" / "client.py").is_file()
    return run_in(PYTHON, str(venv_bin / "python"), "example.py")


@pytest.fixture(params=["typescript", "python"])
def program(request: pytest.FixtureRequest) -> Program:
    client: Program = request.getfixturevalue(f"{request.param}_client")
    return client


def program_environment(tmp_path: Path, url: str, key: str) -> dict[str, str]:
    return {**first_run_environment(tmp_path), "SWITCHBOARD_URL": url, "SWITCHBOARD_API_KEY": key}


def swept(key: str, runs: list[subprocess.CompletedProcess[str]], server: Server) -> None:
    """Hands the session's secret sweep what the clients sent and what they and the server printed."""
    for secret in (key, *CLIENT_SECRETS):
        SWEEP.add_secret(secret)
    for number, run in enumerate(runs, 1):
        SWEEP.add_text("client output", f"{' '.join(run.args)} run {number}", run.stdout + run.stderr)
    SWEEP.add_text("server log", f"port {server.port}", server.output)


def organization(server: Server, key: str) -> dict[str, Any]:
    status, body = post(server.graphql_url, {"query": ORGANIZATION}, key)
    assert status == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def create_the_documented_examples(server: Server, key: str) -> None:
    """What a user who tried every example of README.md, docs/ and the GraphiQL page has in the organization."""
    for number in [*documented_example_numbers(), graphiql_example_number()]:
        status, body = post(server.graphql_url, {"query": CREATE, "variables": {"number": number}}, key)
        assert (status, body) == (200, {"data": {"createPhoneNumber": {"userErrors": []}}}), number


def test_each_example_runs_twice_on_one_organization_and_leaves_it_as_it_was(tmp_path: Path, program: Program) -> None:
    env = first_run_environment(tmp_path)
    key = create_api_key(env)
    with serving(env) as server:
        create_the_documented_examples(server, key)
        before = organization(server, key)
        assert (before["phoneNumbers"]["totalCount"], before["agents"]["totalCount"]) == (8, 0)

        runs = []
        for _ in range(2):
            result = program(program_environment(tmp_path, server.graphql_url, key))
            runs.append(result)
            assert (result.returncode, result.stderr) == (0, "")
            agent, created = created_by(result.stdout)
            assert result.stdout == expected_output(agent, created)
            assert len({agent, *(id for _, id in created)}) == 6
            for (number, _), fictional in zip(created, FICTIONAL_RANGES, strict=True):
                assert re.fullmatch(fictional, number)
            assert organization(server, key) == before
    swept(key, runs, server)


def test_the_typescript_clients_manifest_runs_it_on_a_server_of_trusted_documents_only(
    tmp_path: Path, typescript_client: Program
) -> None:
    """codegen's persisted-documents.json, given to the server, is all the client needs; nothing else runs."""
    manifest = TYPESCRIPT / "src" / "generated" / "persisted-documents.json"
    env = first_run_environment(
        tmp_path, SWITCHBOARD_PERSISTED_DOCUMENTS=str(manifest), SWITCHBOARD_TRUSTED_DOCUMENTS_ONLY="true"
    )
    key = create_api_key(env)
    with serving(env) as server:
        result = typescript_client(program_environment(tmp_path, server.graphql_url, key))
        assert (result.returncode, result.stderr) == (0, "")
        agent, created = created_by(result.stdout)
        assert result.stdout == expected_output(agent, created)
        for body in ({"query": ORGANIZATION}, {"query": CREATE, "variables": {"number": graphiql_example_number()}}):
            status, answer = post(server.graphql_url, body, key)
            assert (status, answer["errors"][0]["extensions"]) == (200, {"code": "TRUSTED_DOCUMENTS_ONLY"})
            assert "data" not in answer
    swept(key, [result], server)


class FailingProxy:
    """Passes requests on to the server, but answers the `failing`-th createPhoneNumber 503 itself."""

    def __init__(self, server: Server, failing: int) -> None:
        self.server = server
        self.failing = failing
        self.creates = 0

    def answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if b"CreatePhoneNumber" in body:
            self.creates += 1
            if self.creates == self.failing:
                return 503, json.dumps({"errors": [{"message": "Service unavailable"}]}).encode()
        request = urllib.request.Request(self.server.graphql_url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    @contextmanager
    def serving(self) -> Iterator[str]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                passed = {
                    name: self.headers[name]
                    for name in ("Authorization", "Content-Type", "Accept")
                    if name in self.headers
                }
                status, answer = proxy.answer(body, passed)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=http.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{http.server_address[1]}/graphql"
        finally:
            http.shutdown()
            http.server_close()


def test_a_step_that_fails_still_deletes_what_the_run_created(tmp_path: Path, program: Program) -> None:
    env = first_run_environment(tmp_path)
    key = create_api_key(env)
    with serving(env) as server:
        proxy = FailingProxy(server, failing=3)
        with proxy.serving() as url:
            result = program(program_environment(tmp_path, url, key))
        remaining = organization(server, key)
    swept(key, [result], server)

    assert result.returncode == 1
    assert "503" in result.stderr
    agent, created = created_by(result.stdout)
    (first, _), (second, _) = created
    # The agent and the two numbers made before the failure, as a whole run prints them, then their deletes.
    made = "".join(expected_output(agent, [*created, *[("+0", "")] * 3]).splitlines(keepends=True)[:3])
    assert result.stdout == made + f'Deleted {first}.\nDeleted {second}.\nDeleted agent "Example receptionist".\n'
    assert remaining == {"phoneNumbers": {"totalCount": 0, "edges": []}, "agents": {"totalCount": 0, "edges": []}}


def test_a_refused_key_exits_1_without_printing_it(tmp_path: Path, program: Program) -> None:
    env = first_run_environment(tmp_path)
    key = create_api_key(env)
    wrong_key = "sb_live_" + "x" * 43
    with serving(env) as server:
        result = program(program_environment(tmp_path, server.graphql_url, wrong_key))
        remaining = organization(server, key)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "401" in result.stderr and wrong_key not in result.stderr
    assert remaining == {"phoneNumbers": {"totalCount": 0, "edges": []}, "agents": {"totalCount": 0, "edges": []}}


def test_missing_key_is_named(tmp_path: Path, program: Program) -> None:
    env = {k: v for k, v in first_run_environment(tmp_path).items() if k != "SWITCHBOARD_API_KEY"}
    result = program(env)
    assert result.returncode == 1
    assert "Set SWITCHBOARD_API_KEY to an API key: switchboard create-api-key --org NAME" in result.stderr


def test_typescript_compiler_enforces_the_one_of_inputs(typescript_client: Program) -> None:
    assert check(["npm", "run", "--silent", "typecheck"], cwd=TYPESCRIPT) == ""

    # The same file without its @ts-expect-error lines: each line they
    # covered must be an assignment error, so none of them covers a typo.
    source = TYPE_TEST.read_text().splitlines()
    directive = [line.lstrip().startswith("// @ts-expect-error") for line in source]
    covered = [index + 2 for index, is_directive in enumerate(directive) if is_directive]
    assert len(covered) == 5
    unchecked = "\n".join("" if is_directive else line for line, is_directive in zip(source, directive, strict=True))
    unchecked = unchecked.replace('"./generated/graphql"', '"./graphql"').replace('"./switchboard"', '"../switchboard"')
    copy = TYPESCRIPT / "src" / "generated" / "one-of-unchecked.ts"
    copy.write_text(unchecked)
    try:
        result = subprocess.run(
            ["npm", "run", "--silent", "typecheck"], cwd=TYPESCRIPT, capture_output=True, text=True, timeout=120
        )
    finally:
        copy.unlink()
    errors = re.findall(r"^src/generated/one-of-unchecked\.ts\((\d+),\d+\): error (TS\d+)", result.stdout, re.M)
    assert result.returncode != 0
    assert errors == [(str(line), "TS2322") for line in covered]
