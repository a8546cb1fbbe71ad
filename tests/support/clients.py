"""What the example clients print, and the numbers they draw, for the tests that run them and read their README."""

from __future__ import annotations

import re

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
