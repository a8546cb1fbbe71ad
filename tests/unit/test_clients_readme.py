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
from tests.support.clients import FICTIONAL_RANGES, created_by, expected_output

CLIENTS_README = REPO / "clients" / "README.md"

# The ranges set aside for fiction each example client draws from, by provider in the order it creates them:
# NANPA's 555-0100 to 0199, Ofcom's drama ranges of Manchester and Leeds, ARCEP's 01 99 00, ACMA's (02) 5550.


def test_the_documented_output_is_what_a_run_prints() -> None:
    (documented,) = re.findall(r"^```text\n(.*?)^```", CLIENTS_README.read_text(), re.M | re.S)
    agent, created = created_by(documented)
    assert documented == expected_output(agent, created)
    for (number, _), fictional in zip(created, FICTIONAL_RANGES, strict=True):
        assert re.fullmatch(fictional, number)
