"""Every example that creates a number creates its own, so they run in any order without TAKEN."""

from __future__ import annotations

import phonenumbers

from tests.support.examples import documented_example_numbers, graphiql_example_number


def e164(number: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.E164)


def test_each_example_creates_a_number_no_other_example_creates() -> None:
    numbers = [*documented_example_numbers(), graphiql_example_number()]
    # Twilio, SIP registration, SIP allowlist, Voximplant, jambonz, idempotent create, REST create, GraphiQL.
    assert len(numbers) == 8
    stored = [e164(number) for number in numbers]
    assert len(set(stored)) == len(stored), sorted(stored)
