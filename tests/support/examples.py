"""The numbers the examples of README.md and docs/, and the GraphiQL page's example, create, as written there."""

from __future__ import annotations

import re

from switchboard.http.graphiql import EXAMPLE_OPERATION
from tests.support import REPO

# The README's quick start first, then the guides in docs/ by name.
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)
# A number in a JSON body ("number": "+1 ...") or in GraphQL inside one (number: \"+1 ...\").
NUMBER = re.compile(r'"number": "(\+[\d ()-]+)"|number: \\"(\+[\d ()-]+)\\"')
CREATES = ("createPhoneNumber", "-X POST http://127.0.0.1:8000/v1/phone-numbers")


def documented_example_numbers() -> list[str]:
    """The number each documented command that creates one sends, in order; exactly one per command."""
    numbers = []
    for block in (block for document in DOCUMENTS for block in SHELL_BLOCK.findall(document.read_text())):
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
