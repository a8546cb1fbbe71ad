"""Field rules shared by every resource: one function per kind of value.

Each check records its failures in an `Errors` collector under the field's
path and returns the normalised value, or None when the value is unusable.
Messages begin with a human label for the field, so they read on their own.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from typing import Any

import phonenumbers
import validators

from resolvers.errors import ErrorCode, Errors, FieldPath

PORT_MIN, PORT_MAX = 1, 65535


class Omitted:
    """A field the caller did not send, as opposed to one sent as null."""

    _instance: Omitted | None = None

    def __new__(cls) -> Omitted:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMITTED"

    def __bool__(self) -> bool:
        return False


OMITTED: Any = Omitted()

_NUMBER_CHARACTERS = re.compile(r"^[0-9+ ().\-]+$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:(?![0-9]+$)")
TWILIO_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
# C0 and C1 control characters and DEL, but tab and line breaks. PostgreSQL
# can't store NUL in text or JSON at all; the others only garble a label.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

METADATA_MAX_KEYS = 50
METADATA_MAX_KEY_LENGTH = 40
METADATA_MAX_STRING_LENGTH = 500
METADATA_MAX_BYTES = 8 * 1024
METADATA_MAX_DEPTH = 10


def text(
    errors: Errors,
    path: FieldPath,
    value: str | None,
    *,
    label: str,
    max_length: int,
    required: bool,
    strip: bool = True,
) -> str | None:
    """A string that, when given, may not be blank, holds no control characters and has a length limit.

    Secrets are checked with strip=False: surrounding spaces in a password
    are the caller's business, and are kept.
    """
    if value is None:
        if required:
            errors.add(path, ErrorCode.BLANK, f"{label} is required")
        return None
    if not value.strip():
        hint = "" if required else "; omit it or send null to leave it unset"
        errors.add(path, ErrorCode.BLANK, f"{label} can't be blank{hint}")
        return None
    if _CONTROL_CHARACTERS.search(value):
        errors.add(path, ErrorCode.INVALID, f"{label} can't contain control characters")
        return None
    if strip:
        value = value.strip()
    if len(value) > max_length:
        errors.add(path, ErrorCode.TOO_LONG, f"{label} is too long (at most {max_length} characters, got {len(value)})")
        return None
    return value


def label_text(errors: Errors, path: FieldPath, value: str | None, *, label: str, max_length: int) -> str | None:
    """An optional display label: trimmed, and empty means none."""
    if value is None or not value.strip():
        return None
    return text(errors, path, value, label=label, max_length=max_length, required=False)


def phone_number(errors: Errors, path: FieldPath, value: str | None) -> str | None:
    """A number in international form, returned in E.164."""
    if value is None or not value.strip():
        errors.add(path, ErrorCode.BLANK, "Number can't be blank")
        return None
    candidate = value.strip()
    if not _NUMBER_CHARACTERS.match(candidate):
        errors.add(
            path,
            ErrorCode.INVALID,
            "Number may contain only digits, a leading + and spaces, dashes, dots or brackets",
        )
        return None
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    if not candidate.startswith("+"):
        errors.add(
            path,
            ErrorCode.INVALID,
            "Number must be in international form: + or 00, then the country code (e.g. +14155550123)",
        )
        return None
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        errors.add(path, ErrorCode.INVALID, f"Number {value.strip()!r} is not a valid phone number")
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def host(
    errors: Errors, path: FieldPath, value: str | None, *, label: str, max_length: int, required: bool
) -> str | None:
    """A bare host name or IP address: no scheme, no port, no path."""
    checked = text(errors, path, value, label=label, max_length=max_length, required=required)
    if checked is None:
        return None
    literal = checked[1:-1] if checked.startswith("[") and checked.endswith("]") else checked
    try:
        return str(ipaddress.ip_address(literal))
    except ValueError:
        pass
    if _SCHEME.match(checked):
        scheme = checked.split(":", 1)[0]
        errors.add(
            path,
            ErrorCode.INVALID,
            f"{label} must be a host name or IP address without a scheme: remove '{scheme}:' "
            f"(e.g. 'pbx.example.com')",
        )
        return None
    if validators.hostname(
        checked, skip_ipv6_addr=True, skip_ipv4_addr=True, may_have_port=False, maybe_simple=True
    ) is not True:
        host_part, _, port_part = checked.rpartition(":")
        hint = f"; give the port {port_part} in the port field" if host_part and port_part.isdigit() else ""
        errors.add(path, ErrorCode.INVALID, f"{label} must be a host name or IP address (e.g. 'pbx.example.com'){hint}")
        return None
    return checked.lower()


def ip_address(errors: Errors, path: FieldPath, value: str | None, *, label: str, max_length: int) -> str | None:
    checked = text(errors, path, value, label=label, max_length=max_length, required=True)
    if checked is None:
        return None
    try:
        return str(ipaddress.ip_address(checked))
    except ValueError:
        errors.add(path, ErrorCode.INVALID, f"{label} must be an IPv4 or IPv6 address (e.g. 203.0.113.10)")
        return None


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# "This network" (RFC 791); ipaddress calls only 0.0.0.0 itself unspecified.
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
# NAT64's well-known prefix (RFC 6052) embeds an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def local_address_reason(address: IPAddress) -> str | None:
    """Why an address can never be a customer's PBX, or None when it can be.

    Private ranges are allowed: PBXs live there. An IPv6 address that carries
    an IPv4 one (mapped, 6to4, Teredo, NAT64) is judged by the IPv4 address.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return local_address_reason(embedded)
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified or address in _THIS_NETWORK:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address == ipaddress.IPv4Address("255.255.255.255"):
        return "the broadcast address"
    if address.is_reserved or isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a reserved address"
    return None


def port(errors: Errors, path: FieldPath, value: int, *, label: str) -> int | None:
    if not PORT_MIN <= value <= PORT_MAX:
        errors.add(path, ErrorCode.OUT_OF_RANGE, f"{label} must be between {PORT_MIN} and {PORT_MAX}, got {value}")
        return None
    return value


def uuid_id(errors: Errors, path: FieldPath, value: str, *, label: str) -> uuid.UUID | None:
    parsed = parse_uuid(value)
    if parsed is None:
        errors.add(path, ErrorCode.INVALID, f"{label} must be a UUID")
    return parsed


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


def metadata(errors: Errors, path: FieldPath, value: Any) -> dict[str, Any] | None:
    """A JSON object within Stripe's metadata limits."""
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add(path, ErrorCode.INVALID, "Metadata must be a JSON object of keys and values")
        return None
    before = len(errors.items)
    if len(value) > METADATA_MAX_KEYS:
        errors.add(path, ErrorCode.TOO_LONG, f"Metadata may hold at most {METADATA_MAX_KEYS} keys, got {len(value)}")
    for key, item in value.items():
        if len(key) > METADATA_MAX_KEY_LENGTH:
            errors.add(
                path + (key,),
                ErrorCode.TOO_LONG,
                f"Metadata key is too long (at most {METADATA_MAX_KEY_LENGTH} characters, got {len(key)})",
            )
        _metadata_value(errors, path + (key,), item, depth=1)
    if len(errors.items) > before:
        return None
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > METADATA_MAX_BYTES:
        errors.add(
            path, ErrorCode.TOO_LONG, f"Metadata is too large (at most {METADATA_MAX_BYTES} bytes as JSON, got {size})"
        )
        return None
    return value


def _metadata_value(errors: Errors, path: FieldPath, value: Any, *, depth: int) -> None:
    if depth > METADATA_MAX_DEPTH:
        errors.add(path, ErrorCode.INVALID, f"Metadata may nest at most {METADATA_MAX_DEPTH} levels deep")
        return
    if _CONTROL_CHARACTERS.search(path[-1]) or isinstance(value, str) and _CONTROL_CHARACTERS.search(value):
        errors.add(path, ErrorCode.INVALID, "Metadata keys and values can't contain control characters other than tab and line breaks")
        return
    if isinstance(value, str):
        if len(value) > METADATA_MAX_STRING_LENGTH:
            errors.add(
                path,
                ErrorCode.TOO_LONG,
                f"Metadata value is too long (at most {METADATA_MAX_STRING_LENGTH} characters, got {len(value)})",
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _metadata_value(errors, path + (str(key),), item, depth=depth + 1)
            if errors.has(path + (str(key),)):
                return
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _metadata_value(errors, path + (str(index),), item, depth=depth + 1)
            if errors.has(path + (str(index),)):
                return

