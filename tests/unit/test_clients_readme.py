"""The typed clients of clients/, generated from schema.graphql and run against a real server.

clients/typescript: GraphQL Code Generator, `tsc --noEmit`, the program run
with tsx. clients/python: ariadne-codegen in a venv of its own, the example
run with it. Both print the same round trip, the one clients/README.md
shows; each runs twice in a row with one key, in an organization that
already holds the numbers of the README's examples, and leaves it as it was.

This is the check of the documented output, without a server; the clients run
against one in tests/system/test_clients.py.
"""

from __future__ import annotations

import re

from tests.support import REPO

CLIENTS_README = REPO / "clients" / "README.md"

# The ranges set aside for fiction each example client draws from, by provider in the order it creates them:
# NANPA's 555-0100 to 0199, Ofcom's drama ranges of Manchester and Leeds, ARCEP's 01 99 00, ACMA's (02) 5550.
FICTIONAL_RANGES = [r"\+131255501\d\d", r"\+441614960\d{3}", r"\+441134960\d{3}", r"\+3319900\d{4}", r"\+6125550\d{4}"]
CREATED = re.compile(r'^Created (\+\d+) "[^"]*" \(([0-9a-f-]{36})\):', re.M)
CREATED_AGENT = re.compile(r'^Created agent "Example receptionist" \(([0-9a-f-]{36})\)\.$', re.M)


def expected_output(agent: str, created: list[tuple[str, str]]) -> str:
    """What a run prints, given the agent id and the (number, id) of each number it created."""
    (twilio, twilio_id), (manchester, manchester_id), (leeds, leeds_id), (paris, paris_id), (sydney, sydney_id) = (
        created
    )
    written = f"+1 ({twilio[2:5]}) {twilio[5:8]}-{twilio[8:]}"
    return f"""\
Created agent "Example receptionist" ({agent}).
Created {twilio} "Front desk" ({twilio_id}): Twilio, account AC0123456789abcdef0123456789abcdef, auth token stored.
Created {manchester} "Manchester PBX" ({manchester_id}): SIP registration, agent-1@pbx.example.com:5061 over TLS, password stored.
Created {leeds} "Leeds SBC" ({leeds_id}): SIP IP allowlist, 203.0.113.10:5060 over TCP.
Created {paris} "Paris" ({paris_id}): Voximplant, application 10451.
Created {sydney} "Sydney" ({sydney_id}): jambonz, application 7d3f2a10-0000-4000-8000-000000000001.
Refused "{written}", the first number written another way: TAKEN at input.number.
The agent's numbers, newest first, 2 a page:
  page 1: {sydney} {paris}
  page 2: {leeds} {manchester}
  page 3: {twilio}
  5 in all.
Rotated the auth token of {twilio} alone: Twilio, account AC0123456789abcdef0123456789abcdef, auth token stored.
Switched {leeds} from IP allowlist to registration: SIP registration, agent-2@sbc.example.com:5060 over UDP, password stored.
Renamed {paris} "Paris office": Voximplant, application 10451.
Refetched by id through node: {paris} "Paris office" ({paris_id}): Voximplant, application 10451.
Deleted {twilio}.
Deleted {manchester}.
Deleted {leeds}.
Deleted {paris}.
Deleted {sydney}.
Deleted agent "Example receptionist".
Nothing this run created is left.
"""


def created_by(output: str) -> tuple[str, list[tuple[str, str]]]:
    """The agent id and the (number, id) of each number a run says it created."""
    (agent,) = CREATED_AGENT.findall(output)
    return agent, CREATED.findall(output)


def test_the_documented_output_is_what_a_run_prints() -> None:
    (documented,) = re.findall(r"^```text\n(.*?)^```", CLIENTS_README.read_text(), re.M | re.S)
    agent, created = created_by(documented)
    assert documented == expected_output(agent, created)
    for (number, _), fictional in zip(created, FICTIONAL_RANGES, strict=True):
        assert re.fullmatch(fictional, number)
