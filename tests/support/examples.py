"""The numbers the README's examples and the GraphiQL page's example create, as written there."""

from __future__ import annotations

import re

from switchboard.graphiql import EXAMPLE_OPERATION
from tests.support import REPO

README = REPO / "README.md"
SHELL_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)
# A number in a JSON body ("number": "+1 ...") or in GraphQL inside one (number: \"+1 ...\").
NUMBER = re.compile(r'"number": "(\+[\d ()-]+)"|number: \\"(\+[\d ()-]+)\\"')
CREATES = ("createPhoneNumber", "-X POST http://127.0.0.1:8000/v1/phone-numbers")


def readme_example_numbers() -> list[str]:
    """The number each README command that creates one sends, in order; exactly one per command."""
    numbers = []
    for block in SHELL_BLOCK.findall(README.read_text()):
        for command in block.split("curl ")[1:]:
            if any(create in command for create in CREATES):
                found = [a or b for a, b in NUMBER.findall(command)]
                assert len(found) == 1, f"expected one number in {command!r}"
                numbers.extend(found)
    return numbers


def graphiql_example_number() -> str:
    match = re.search(r'number: "(\+[\d ()-]+)"', EXAMPLE_OPERATION)
    assert match is not None, "the GraphiQL example creates no number"
    return match[1]
