"""The round trip of an integration, with the client ariadne-codegen generates.

A number for each provider and SIP mode, a paged list, updates (a secret
rotated alone, a mode switched, a rename), deletes. Prints ids, numbers and
configurations, never a secret. Needs SWITCHBOARD_API_KEY; SWITCHBOARD_URL
defaults to http://127.0.0.1:8000/graphql.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Protocol, TypeVar

from switchboard_client import (
    CreatePhoneNumberInput,
    JambonzInput,
    PhoneNumberFields,
    PhoneNumberFieldsConfigJambonzConfig,
    PhoneNumberFieldsConfigSipIpAllowlistConfig,
    PhoneNumberFieldsConfigSipRegistrationConfig,
    PhoneNumberFieldsConfigTwilioConfig,
    PhoneNumberFieldsConfigVoximplantConfig,
    ProviderInput,
    ProviderUpdateInput,
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

NUMBERS = [
    CreatePhoneNumberInput(
        number="+1 415 555 0123",
        name="Front desk",
        provider=ProviderInput(
            twilio=TwilioInput(account_sid="AC0123456789abcdef0123456789abcdef", auth_token="example-twilio-auth-token")
        ),
    ),
    CreatePhoneNumberInput(
        number="+44 20 7946 0958",
        name="London PBX",
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
        number="+49 30 901820",
        name="Berlin SBC",
        provider=ProviderInput(sip=SipInput(ip_allowlist=SipIpAllowlistInput(ip="203.0.113.10", protocol=SipTransport.TCP))),
    ),
    CreatePhoneNumberInput(
        number="+33 1 23 45 67 89", name="Paris", provider=ProviderInput(voximplant=VoximplantInput(application_id="10451"))
    ),
    CreatePhoneNumberInput(
        number="+61 2 9374 4000",
        name="Sydney",
        provider=ProviderInput(jambonz=JambonzInput(application_sid="7d3f2a10-0000-4000-8000-000000000001")),
    ),
]


class Refused(Exception):
    """The server refused an input; the message names each broken rule, never the values sent."""


class Payload(Protocol):
    @property
    def user_errors(self) -> list[UserErrorFields]: ...


def saved(payload: Payload, result: T | None) -> T:
    if payload.user_errors or result is None:
        raise Refused("; ".join(f"{e.code.value} at {'.'.join(e.field)}: {e.message}" for e in payload.user_errors))
    return result


def describe(phone_number: PhoneNumberFields) -> str:
    config = phone_number.config
    sip_mode = phone_number.sip_mode.value if phone_number.sip_mode else None
    match config:
        case PhoneNumberFieldsConfigTwilioConfig():
            return f"twilio {config.account_sid} authTokenSet={str(config.auth_token_set).lower()}"
        case PhoneNumberFieldsConfigSipRegistrationConfig():
            return (
                f"sip {sip_mode} {config.username}@{config.proxy}:{config.port} {config.register_transport.value}"
                f" passwordSet={str(config.password_set).lower()}"
            )
        case PhoneNumberFieldsConfigSipIpAllowlistConfig():
            return f"sip {sip_mode} {config.ip}:{config.port} {config.protocol.value}"
        case PhoneNumberFieldsConfigVoximplantConfig():
            return f"voximplant application {config.application_id or 'none'}"
        case PhoneNumberFieldsConfigJambonzConfig():
            return f"jambonz application {config.application_sid or 'none'}"


async def list_all(client: SwitchboardClient) -> None:
    after: str | None = None
    page = 0
    while True:
        phone_numbers = (await client.phone_numbers(first=2, after=after)).phone_numbers
        page += 1
        print(f"page {page}: {' '.join(edge.node.number for edge in phone_numbers.edges)}")
        if not phone_numbers.page_info.has_next_page:
            print(f"listed {phone_numbers.total_count}")
            return
        after = phone_numbers.page_info.end_cursor


async def main() -> None:
    api_key = os.environ.get("SWITCHBOARD_API_KEY")
    if not api_key:
        raise Refused("Set SWITCHBOARD_API_KEY to an API key: switchboard create-api-key --org NAME")
    url = os.environ.get("SWITCHBOARD_URL", "http://127.0.0.1:8000/graphql")
    async with SwitchboardClient(url, headers={"Authorization": f"Bearer {api_key}"}) as client:
        created = []
        for input in NUMBERS:
            payload = (await client.create_phone_number(input)).create_phone_number
            phone_number = saved(payload, payload.phone_number)
            created.append(phone_number)
            print(f"created {phone_number.id} {phone_number.number} {describe(phone_number)}")
        twilio, _, allowlist, voximplant, jambonz = created

        duplicate = "+1 (415) 555-0123"
        refused = (
            await client.create_phone_number(
                CreatePhoneNumberInput(number=duplicate, provider=ProviderInput(voximplant=VoximplantInput()))
            )
        ).create_phone_number
        for error in refused.user_errors:
            print(f"refused {duplicate}: {error.code.value} at {'.'.join(error.field)}")

        await list_all(client)

        updates = [
            # One secret rotated alone; the account SID stays.
            UpdatePhoneNumberInput(
                id=twilio.id, provider=ProviderUpdateInput(twilio=TwilioUpdateInput(auth_token="example-rotated-auth-token"))
            ),
            # Another SIP mode: a whole configuration, the old one erased.
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
            UpdatePhoneNumberInput(id=voximplant.id, name="Paris office"),
        ]
        for input in updates:
            payload = (await client.update_phone_number(input)).update_phone_number
            phone_number = saved(payload, payload.phone_number)
            print(f"updated {phone_number.id} {phone_number.name} {describe(phone_number)}")

        for phone_number in (voximplant, jambonz):
            deleted = (await client.delete_phone_number(phone_number.id)).delete_phone_number
            print(f"deleted {saved(deleted, deleted.deleted_id)}")

        await list_all(client)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except (Refused, GraphQLClientError) as error:
        sys.exit(str(error))
