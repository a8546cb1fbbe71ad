"""The round trip of an integration, leaving nothing behind, with the client ariadne-codegen generates.

An agent, a number for each provider and SIP mode answered by it, a refused
duplicate, the agent's numbers page by page, updates (a secret rotated
alone, a mode switched, a rename), the renamed number refetched by its id
through `node`, then everything it created deleted, also when a step
failed. The numbers are fresh each run, from ranges set aside for fiction
that no other example uses, so it runs again and again on one organization.
Prints what it does, never a secret; clients/README.md shows the output.
Needs SWITCHBOARD_API_KEY; SWITCHBOARD_URL defaults to
http://127.0.0.1:8000/graphql.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import httpx

from switchboard_client import (
    CreateAgentCreateAgentAgent,
    CreatePhoneNumberInput,
    JambonzInput,
    PhoneNumberFields,
    PhoneNumberFieldsConfigJambonzConfig,
    PhoneNumberFieldsConfigSipIpAllowlistConfig,
    PhoneNumberFieldsConfigSipRegistrationConfig,
    PhoneNumberFieldsConfigTwilioConfig,
    PhoneNumberFieldsConfigVoximplantConfig,
    PhoneNumberFilter,
    ProviderInput,
    ProviderUpdateInput,
    RefetchPhoneNumberNodePhoneNumber,
    SipInput,
    SipIpAllowlistInput,
    SipRegistrationInput,
    SipRegistrationUpdateInput,
    SipTransport,
    SipUpdateInput,
    SwitchboardClient,
    TwilioInput,
    TwilioUpdateInput,
    UpdatePhoneNumberInput,
    UserErrorFields,
    VoximplantInput,
)
from switchboard_client.exceptions import GraphQLClientError

T = TypeVar("T")
Agent = CreateAgentCreateAgentAgent


class Refused(Exception):
    """The server refused an input; the message names each broken rule, never the values sent."""


class Payload(Protocol):
    @property
    def user_errors(self) -> list[UserErrorFields]: ...


@dataclass
class Created:
    agent: Agent | None = None
    numbers: list[PhoneNumberFields] = field(default_factory=list)


def saved(payload: Payload, result: T | None) -> T:
    if payload.user_errors or result is None:
        raise Refused(
            "refused: " + "; ".join(f"{e.code.value} at {'.'.join(e.field)}: {e.message}" for e in payload.user_errors)
        )
    return result


def fictional(prefix: str, digits: int) -> str:
    """`prefix` and `digits` random digits: a fresh number in a range reserved for fiction."""
    return prefix + "".join(random.choice("0123456789") for _ in range(digits))


def numbers_for(agent: Agent) -> list[CreatePhoneNumberInput]:
    return [
        CreatePhoneNumberInput(
            number=fictional("+1 312 555 01", 2),
            name="Front desk",
            agent_id=agent.id,
            provider=ProviderInput(
                twilio=TwilioInput(
                    account_sid="AC0123456789abcdef0123456789abcdef", auth_token="example-twilio-auth-token"
                )
            ),
        ),
        CreatePhoneNumberInput(
            number=fictional("+44 161 496 0", 3),
            name="Manchester PBX",
            agent_id=agent.id,
            provider=ProviderInput(
                sip=SipInput(
                    registration=SipRegistrationInput(
                        username="agent-1",
                        password="example-sip-password",
                        proxy="pbx.example.com",
                        port=5061,
                        register_transport=SipTransport.TLS,
                    )
                )
            ),
        ),
        CreatePhoneNumberInput(
            number=fictional("+44 113 496 0", 3),
            name="Leeds SBC",
            agent_id=agent.id,
            provider=ProviderInput(
                sip=SipInput(ip_allowlist=SipIpAllowlistInput(ip="203.0.113.10", protocol=SipTransport.TCP))
            ),
        ),
        CreatePhoneNumberInput(
            number=fictional("+33 1 99 00 ", 4),
            name="Paris",
            agent_id=agent.id,
            provider=ProviderInput(voximplant=VoximplantInput(application_id="10451")),
        ),
        CreatePhoneNumberInput(
            number=fictional("+61 2 5550 ", 4),
            name="Sydney",
            agent_id=agent.id,
            provider=ProviderInput(jambonz=JambonzInput(application_sid="7d3f2a10-0000-4000-8000-000000000001")),
        ),
    ]


def describe(phone_number: PhoneNumberFields) -> str:
    config = phone_number.config
    match config:
        case PhoneNumberFieldsConfigTwilioConfig():
            return (
                f"Twilio, account {config.account_sid}, auth token {'stored' if config.auth_token_set else 'missing'}"
            )
        case PhoneNumberFieldsConfigSipRegistrationConfig():
            transport = config.register_transport.value
            return (
                f"SIP registration, {config.username}@{config.proxy}:{config.port} over {transport},"
                f" password {'stored' if config.password_set else 'missing'}"
            )
        case PhoneNumberFieldsConfigSipIpAllowlistConfig():
            return f"SIP IP allowlist, {config.ip}:{config.port} over {config.protocol.value}"
        case PhoneNumberFieldsConfigVoximplantConfig():
            return f"Voximplant, application {config.application_id or 'none'}"
        case PhoneNumberFieldsConfigJambonzConfig():
            return f"jambonz, application {config.application_sid or 'none'}"


def show(phone_number: PhoneNumberFields) -> str:
    return f'{phone_number.number} "{phone_number.name or ""}" ({phone_number.id}): {describe(phone_number)}'


def as_written(e164: str) -> str:
    """A North American number in E.164, written as people do: +1 (312) 555-0147."""
    return f"+1 ({e164[2:5]}) {e164[5:8]}-{e164[8:]}"


async def list_numbers_of(client: SwitchboardClient, agent: Agent) -> None:
    print("The agent's numbers, newest first, 2 a page:")
    after: str | None = None
    page = 1
    while True:
        phone_numbers = (
            await client.phone_numbers(first=2, after=after, filter_=PhoneNumberFilter(agent_id=agent.id))
        ).phone_numbers
        print(f"  page {page}: {' '.join(edge.node.number for edge in phone_numbers.edges)}")
        if not phone_numbers.page_info.has_next_page:
            print(f"  {phone_numbers.total_count} in all.")
            return
        after = phone_numbers.page_info.end_cursor
        page += 1


async def refetch(client: SwitchboardClient, id: str) -> PhoneNumberFields:
    """The number `id` names, read again through `node`, which answers any object by its id."""
    node = (await client.refetch_phone_number(id)).node
    if not isinstance(node, RefetchPhoneNumberNodePhoneNumber):
        raise Refused(f'node(id: "{id}") answered {f"a {node.typename__}" if node else "null"}, not a phone number')
    return node


async def round_trip(client: SwitchboardClient, created: Created) -> None:
    payload = (await client.create_agent(name="Example receptionist")).create_agent
    agent = saved(payload, payload.agent)
    created.agent = agent
    print(f'Created agent "{agent.name}" ({agent.id}).')

    for input in numbers_for(agent):
        created_number = (await client.create_phone_number(input)).create_phone_number
        phone_number = saved(created_number, created_number.phone_number)
        created.numbers.append(phone_number)
        print(f"Created {show(phone_number)}.")
    twilio, _, allowlist, voximplant, _ = created.numbers

    duplicate = as_written(twilio.number)
    refused = (
        await client.create_phone_number(
            CreatePhoneNumberInput(number=duplicate, provider=ProviderInput(voximplant=VoximplantInput()))
        )
    ).create_phone_number
    if refused.phone_number:
        created.numbers.append(refused.phone_number)
        raise Refused(f"{duplicate} was saved a second time")
    for error in refused.user_errors:
        where = ".".join(error.field)
        print(f'Refused "{duplicate}", the first number written another way: {error.code.value} at {where}.')

    await list_numbers_of(client, agent)

    updates: list[tuple[UpdatePhoneNumberInput, Callable[[PhoneNumberFields], str]]] = [
        # One secret rotated alone; the account SID stays.
        (
            UpdatePhoneNumberInput(
                id=twilio.id,
                provider=ProviderUpdateInput(twilio=TwilioUpdateInput(auth_token="example-rotated-auth-token")),
            ),
            lambda phone_number: f"Rotated the auth token of {phone_number.number} alone",
        ),
        # Another SIP mode: a whole configuration, the old one erased.
        (
            UpdatePhoneNumberInput(
                id=allowlist.id,
                provider=ProviderUpdateInput(
                    sip=SipUpdateInput(
                        registration=SipRegistrationUpdateInput(
                            username="agent-2", password="example-sip-password-2", proxy="sbc.example.com"
                        )
                    )
                ),
            ),
            lambda phone_number: f"Switched {phone_number.number} from IP allowlist to registration",
        ),
        (
            UpdatePhoneNumberInput(id=voximplant.id, name="Paris office"),
            lambda phone_number: f'Renamed {phone_number.number} "{phone_number.name or ""}"',
        ),
    ]
    for input, done in updates:
        updated = (await client.update_phone_number(input)).update_phone_number
        phone_number = saved(updated, updated.phone_number)
        print(f"{done(phone_number)}: {describe(phone_number)}.")

    print(f"Refetched by id through node: {show(await refetch(client, voximplant.id))}.")


async def remove_created(client: SwitchboardClient, created: Created) -> int:
    """Deletes what `created` holds, each on its own; the number of deletes that failed."""
    failed = 0

    async def attempt(what: str, remove: Callable[[], Awaitable[None]]) -> None:
        nonlocal failed
        try:
            await remove()
            print(f"Deleted {what}.")
        except (Refused, GraphQLClientError, httpx.HTTPError) as error:
            failed += 1
            print(f"Could not delete {what}: {error}", file=sys.stderr)

    for phone_number in created.numbers:

        async def remove_number(id: str = phone_number.id) -> None:
            deleted = (await client.delete_phone_number(id)).delete_phone_number
            saved(deleted, deleted.deleted_id)

        await attempt(phone_number.number, remove_number)
    if created.agent is not None:
        agent = created.agent

        async def remove_agent() -> None:
            deleted = (await client.delete_agent(agent.id)).delete_agent
            saved(deleted, deleted.deleted_id)

        await attempt(f'agent "{agent.name}"', remove_agent)
    return failed


async def main() -> None:
    api_key = os.environ.get("SWITCHBOARD_API_KEY")
    if not api_key:
        raise Refused("Set SWITCHBOARD_API_KEY to an API key: switchboard create-api-key --org NAME")
    url = os.environ.get("SWITCHBOARD_URL", "http://127.0.0.1:8000/graphql")
    async with SwitchboardClient(url, headers={"Authorization": f"Bearer {api_key}"}) as client:
        created = Created()
        try:
            await round_trip(client, created)
        finally:
            left_behind = await remove_created(client, created)
        if left_behind:
            raise Refused(f"{left_behind} of the things this run created could not be deleted")
        print("Nothing this run created is left.")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except (Refused, GraphQLClientError, httpx.HTTPError) as error:
        sys.exit(str(error))
