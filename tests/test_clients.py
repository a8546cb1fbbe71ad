"""The typed clients of clients/, generated from schema.graphql and run against a real server.

clients/typescript: GraphQL Code Generator, `tsc --noEmit`, the program run
with tsx. clients/python: ariadne-codegen in a venv of its own, the example
run with it. Both print the same round trip, so one expected text serves.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.processes import Server, create_api_key, environment, post, serving
from tests.tooling import check, client_venv, npm_project

TYPESCRIPT = REPO / "clients" / "typescript"
PYTHON = REPO / "clients" / "python"
TYPE_TEST = TYPESCRIPT / "src" / "one-of.type-test.ts"

REMAINING = """{ phoneNumbers { edges { node { id number name sipMode
  config { __typename ... on TwilioConfig { accountSid authTokenSet } ... on SipRegistrationConfig { username proxy } } } } } }"""

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
    return request.getfixturevalue(f"{request.param}_client")


def program_environment(tmp_path: Path, server: Server, key: str) -> dict[str, str]:
    return {**environment(tmp_path), "SWITCHBOARD_URL": server.url, "SWITCHBOARD_API_KEY": key}


def expected_round_trip(twilio: str, registration: str, allowlist: str, voximplant: str, jambonz: str) -> str:
    return f"""\
created {twilio} +14155550123 twilio AC0123456789abcdef0123456789abcdef authTokenSet=true
created {registration} +442079460958 sip REGISTRATION agent-1@pbx.example.com:5061 TLS passwordSet=true
created {allowlist} +4930901820 sip IP_ALLOWLIST 203.0.113.10:5060 TCP
created {voximplant} +33123456789 voximplant application 10451
created {jambonz} +61293744000 jambonz application 7d3f2a10-0000-4000-8000-000000000001
refused +1 (415) 555-0123: TAKEN at input.number
page 1: +61293744000 +33123456789
page 2: +4930901820 +442079460958
page 3: +14155550123
listed 5
updated {twilio} Front desk twilio AC0123456789abcdef0123456789abcdef authTokenSet=true
updated {allowlist} Berlin SBC sip REGISTRATION agent-2@sbc.example.com:5060 UDP passwordSet=true
updated {voximplant} Paris office voximplant application 10451
deleted {voximplant}
deleted {jambonz}
page 1: +4930901820 +442079460958
page 2: +14155550123
listed 3
"""


def test_round_trip_for_each_provider_and_sip_mode(tmp_path: Path, program: Program) -> None:
    env = environment(tmp_path)
    key = create_api_key(env)
    with serving(env) as server:
        result = program(program_environment(tmp_path, server, key))
        assert (result.returncode, result.stderr) == (0, "")
        ids = re.findall(r"^created (\S+) ", result.stdout, re.M)
        assert len(set(ids)) == 5
        assert result.stdout == expected_round_trip(*ids)

        twilio, registration, allowlist, _, _ = ids
        status, body = post(server.url, {"query": REMAINING}, key)
    sip_registration = {"__typename": "SipRegistrationConfig"}
    assert (status, body["data"]["phoneNumbers"]["edges"]) == (200, [
        {"node": {"id": allowlist, "number": "+4930901820", "name": "Berlin SBC", "sipMode": "REGISTRATION",
                  "config": {**sip_registration, "username": "agent-2", "proxy": "sbc.example.com"}}},
        {"node": {"id": registration, "number": "+442079460958", "name": "London PBX", "sipMode": "REGISTRATION",
                  "config": {**sip_registration, "username": "agent-1", "proxy": "pbx.example.com"}}},
        {"node": {"id": twilio, "number": "+14155550123", "name": "Front desk", "sipMode": None,
                  "config": {"__typename": "TwilioConfig", "accountSid": "AC0123456789abcdef0123456789abcdef", "authTokenSet": True}}},
    ])


def test_a_refused_key_exits_1_without_printing_it(tmp_path: Path, program: Program) -> None:
    env = environment(tmp_path)
    key = create_api_key(env)
    wrong_key = "sb_live_" + "x" * 43
    with serving(env) as server:
        result = program(program_environment(tmp_path, server, wrong_key))
        status, body = post(server.url, {"query": REMAINING}, key)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "401" in result.stderr and wrong_key not in result.stderr
    assert (status, body) == (200, {"data": {"phoneNumbers": {"edges": []}}})


def test_missing_key_is_named(tmp_path: Path, program: Program) -> None:
    env = {k: v for k, v in environment(tmp_path).items() if k != "SWITCHBOARD_API_KEY"}
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
    unchecked = "\n".join("" if is_directive else line for line, is_directive in zip(source, directive))
    unchecked = unchecked.replace('"./generated/graphql"', '"./graphql"').replace('"./switchboard"', '"../switchboard"')
    copy = TYPESCRIPT / "src" / "generated" / "one-of-unchecked.ts"
    copy.write_text(unchecked)
    try:
        result = subprocess.run(["npm", "run", "--silent", "typecheck"], cwd=TYPESCRIPT, capture_output=True, text=True, timeout=120)
    finally:
        copy.unlink()
    errors = re.findall(r"^src/generated/one-of-unchecked\.ts\((\d+),\d+\): error (TS\d+)", result.stdout, re.M)
    assert result.returncode != 0
    assert errors == [(str(line), "TS2322") for line in covered]
