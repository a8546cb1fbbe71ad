"""A number's provider configuration as its row holds it, typed: what the read types are built from.

Rows are built in memory (no database): the accessors read the columns only.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from models import (
    InconsistentRow,
    JambonzColumns,
    PhoneNumber,
    Provider,
    SipIpAllowlistColumns,
    SipMode,
    SipRegistrationColumns,
    SipTransport,
    TwilioColumns,
    VoximplantColumns,
)

SID = "AC0123456789abcdef0123456789abcdef"
REGISTRATION: dict[str, Any] = {
    "provider": Provider.SIP,
    "sip_mode": SipMode.REGISTRATION,
    "sip_username": "alice",
    "sip_password_encrypted": "sealed",
    "sip_proxy": "pbx.example.com",
    "sip_port": 5060,
    "sip_transport": SipTransport.TLS,
}
ALLOWLIST: dict[str, Any] = {
    "provider": Provider.SIP,
    "sip_mode": SipMode.IP_ALLOWLIST,
    "sip_ip": "192.0.2.10",
    "sip_port": 5080,
    "sip_transport": SipTransport.UDP,
}


def row(**columns: Any) -> PhoneNumber:
    return PhoneNumber(id=uuid.uuid4(), number="+14155550123", **columns)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (
            {"provider": Provider.TWILIO, "twilio_account_sid": SID, "twilio_auth_token_encrypted": "sealed"},
            TwilioColumns(account_sid=SID, auth_token_set=True),
        ),
        (
            REGISTRATION,
            SipRegistrationColumns("alice", "pbx.example.com", None, None, 5060, SipTransport.TLS, password_set=True),
        ),
        (ALLOWLIST, SipIpAllowlistColumns("192.0.2.10", 5080, SipTransport.UDP)),
        ({"provider": Provider.VOXIMPLANT, "voximplant_rule_id": "r1"}, VoximplantColumns(None, "r1")),
        ({"provider": Provider.JAMBONZ}, JambonzColumns(None, None)),
    ],
)
def test_each_provider_reads_as_its_own_configuration(columns: dict[str, Any], expected: object) -> None:
    assert row(**columns).provider_columns() == expected


@pytest.mark.parametrize(
    ("columns", "missing"),
    [
        ({"provider": Provider.TWILIO, "twilio_auth_token_encrypted": "sealed"}, "twilio_account_sid"),
        ({**REGISTRATION, "sip_proxy": None}, "sip_proxy"),
        ({**REGISTRATION, "sip_transport": None}, "sip_transport"),
        ({**ALLOWLIST, "sip_port": None}, "sip_port"),
    ],
)
def test_a_null_where_the_provider_needs_a_value_is_an_inconsistent_row(columns: dict[str, Any], missing: str) -> None:
    number = row(**columns)
    with pytest.raises(InconsistentRow, match=rf"^phone number {number.id} \(\w+\) has no {missing}$"):
        number.provider_columns()


def test_a_sip_row_without_a_mode_is_an_inconsistent_row() -> None:
    number = row(**{**REGISTRATION, "sip_mode": None})
    with pytest.raises(InconsistentRow, match="unknown provider configuration"):
        number.provider_columns()


def test_another_provider_s_accessor_refuses_the_row() -> None:
    number = row(**REGISTRATION)
    with pytest.raises(InconsistentRow, match=r"is a sip number in registration mode$"):
        number.twilio()
    with pytest.raises(InconsistentRow, match=r"is a sip number in registration mode$"):
        number.sip_ip_allowlist()
    assert number.sip_registration().username == "alice"
