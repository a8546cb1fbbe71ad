"""Field rules shared by every resource: one function per kind of value.

Each check records its failures in an `Errors` collector under the field's
path and returns the normalised value, or None when the value is unusable.
Messages begin with a human label for the field, so they read on their own.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import uuid
from enum import Enum
from typing import Any, Final, Literal, TypeAlias, TypeVar

import idna
import phonenumbers
import regex
import validators

from resolvers.errors import ErrorCode, Errors, FieldPath

PORT_MIN, PORT_MAX = 1, 65535


class Omitted(Enum):
    """A field the caller did not send, as opposed to one sent as null.

    An enum of one member, so that type checkers narrow `value is OMITTED`
    (PEP 484's way to type a sentinel).
    """

    OMITTED = "OMITTED"

    def __repr__(self) -> str:
        return "OMITTED"

    def __bool__(self) -> Literal[False]:
        return False


OMITTED: Final = Omitted.OMITTED

T = TypeVar("T")
# A field of a domain input: the value sent (None for an explicit null, where allowed), or OMITTED.
OrOmitted: TypeAlias = T | Literal[Omitted.OMITTED]

_NUMBER_CHARACTERS = re.compile(r"^[0-9+ ().\-]+$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:(?![0-9]+$)")
TWILIO_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
# C0 and C1 control characters and DEL, but tab and line breaks. PostgreSQL
# can't store NUL in text or JSON at all; the others only garble a label.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# Credentials and SIP targets reach SIP headers and provider APIs verbatim: no
# character there may break a line, reorder what a person reads, or hide.
# Unicode properties, not a list, so every such character is covered,
# whatever Unicode adds.
_UNSAFE_CHARACTERS = regex.compile(r"[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]")

METADATA_MAX_KEYS = 50
METADATA_MAX_KEY_LENGTH = 40
METADATA_MAX_STRING_LENGTH = 500
METADATA_MAX_BYTES = 8 * 1024
METADATA_MAX_DEPTH = 10
# JavaScript's Number.MAX_SAFE_INTEGER: beyond it, JavaScript clients (and any
# JSON parser that reads numbers as doubles) silently round. Both databases hold
# more, so the clients set the limit.
METADATA_MAX_NUMBER = 2**53 - 1

# Messages quote caller input only as an excerpt this long, escaped: a UUID fits.
QUOTE_MAX_CHARACTERS = 40


def excerpt(value: str, limit: int = QUOTE_MAX_CHARACTERS) -> str:
    """Caller input as a message or path may quote it: unprintable characters
    escaped (no line break, escape sequence or bidi control gets through), and
    cut to at most `limit` characters, "…" included, whatever was sent."""
    pieces: list[str] = []
    length = 0
    for character in value:
        piece = character if character.isprintable() else ascii(character)[1:-1]
        if length + len(piece) > limit:
            while pieces and length + 1 > limit:
                length -= len(pieces.pop())
            return "".join(pieces) + "…"
        pieces.append(piece)
        length += len(piece)
    return "".join(pieces)


def quoted(value: str) -> str:
    return f"'{excerpt(value)}'"


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


def has_control_characters(value: str) -> bool:
    """Control characters but tab and line breaks, as `text` refuses them."""
    return _CONTROL_CHARACTERS.search(value) is not None


def label_text(errors: Errors, path: FieldPath, value: str | None, *, label: str, max_length: int) -> str | None:
    """An optional display label: trimmed, and empty means none."""
    if value is None or not value.strip():
        return None
    return text(errors, path, value, label=label, max_length=max_length, required=False)


def credential(
    errors: Errors, path: FieldPath, value: str | None, *, label: str, max_length: int, required: bool, strip: bool = True
) -> str | None:
    """A username, password or token: text without control, line-breaking, bidi or invisible characters.

    Checked before trimming, so a trailing CR LF is refused rather than
    dropped. Spaces are allowed; the message never quotes the value.
    """
    if isinstance(value, str) and _UNSAFE_CHARACTERS.search(value):
        errors.add(
            path,
            ErrorCode.INVALID,
            f"{label} can't contain control characters (tab and line breaks included), line or paragraph "
            "separators, bidi controls or invisible characters such as zero-width spaces",
        )
        return None
    return text(errors, path, value, label=label, max_length=max_length, required=required, strip=strip)


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
        errors.add(path, ErrorCode.INVALID, f"Number {quoted(value.strip())} is not a valid phone number")
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def host(
    errors: Errors,
    path: FieldPath,
    value: str | None,
    *,
    label: str,
    max_length: int,
    required: bool,
    allow_local: bool,
) -> str | None:
    """A bare host name or IP address (no scheme, no port, no path), in its one canonical form.

    Addresses as `ip_address` gives them; names lower case, without the
    root's dot, internationalised labels as IDNA A-labels (UTS 46), so
    `bücher.example` and `xn--bcher-kva.example` are one target.
    """
    checked = text(errors, path, value, label=label, max_length=max_length, required=required)
    if checked is None or not _target_characters(errors, path, checked, label=label):
        return None
    literal = checked[1:-1] if checked.startswith("[") and checked.endswith("]") else checked
    address = _parse_address(literal)
    if address is not None:
        return _target_address(errors, path, address, label=label, allow_local=allow_local)
    if _SCHEME.match(checked):
        scheme = checked.split(":", 1)[0]
        errors.add(
            path,
            ErrorCode.INVALID,
            f"{label} must be a host name or IP address without a scheme: remove {quoted(scheme + ':')} "
            f"(e.g. 'pbx.example.com')",
        )
        return None
    name = _ascii_host_name(checked)
    if name is not None and _NUMERIC_LABEL.match(name.rpartition(".")[2]):
        errors.add(
            path,
            ErrorCode.INVALID,
            f"{label} spells an IPv4 address in a form with no canonical spelling (such as 0x7f000001, "
            "2130706433 or 127.1): write it as four decimal parts, e.g. 203.0.113.10",
        )
        return None
    if name is None or validators.hostname(
        name, skip_ipv6_addr=True, skip_ipv4_addr=True, may_have_port=False, maybe_simple=True
    ) is not True:
        host_part, _, port_part = checked.rpartition(":")
        hint = f"; give the port {port_part} in the port field" if host_part and port_part.isdigit() else ""
        errors.add(path, ErrorCode.INVALID, f"{label} must be a host name or IP address (e.g. 'pbx.example.com'){hint}")
        return None
    if len(name) > max_length:
        errors.add(
            path, ErrorCode.TOO_LONG, f"{label} is too long as an ASCII host name (at most {max_length} characters, got {len(name)})"
        )
        return None
    if not allow_local and (name in _LOOPBACK_NAMES or name.endswith(".localhost")):
        errors.add(path, ErrorCode.INVALID, f"{label} can't be localhost or another name of the machine Switchboard runs on")
        return None
    return name


def ip_address(
    errors: Errors, path: FieldPath, value: str | None, *, label: str, max_length: int, allow_local: bool
) -> str | None:
    """An IP address in its one canonical form: an IPv4-mapped IPv6 address as IPv4, IPv6 compressed and lower case."""
    checked = text(errors, path, value, label=label, max_length=max_length, required=True)
    if checked is None or not _target_characters(errors, path, checked, label=label):
        return None
    address = _parse_address(checked)
    if address is None:
        errors.add(path, ErrorCode.INVALID, f"{label} must be an IPv4 or IPv6 address (e.g. 203.0.113.10)")
        return None
    return _target_address(errors, path, address, label=label, allow_local=allow_local)


# localhost and every name under it (RFC 6761), and the loopback names that
# Debian's and Red Hat's /etc/hosts give this machine without asking DNS.
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "localhost4", "localhost6", "ip6-localhost", "ip6-loopback"})

# The last label of a host name that resolvers (inet_aton, browsers' URL
# parsers) read as a number, making the whole name an IPv4 address.
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$", re.IGNORECASE)


def _target_characters(errors: Errors, path: FieldPath, value: str, *, label: str) -> bool:
    """False, with an error, for a zone ID or an invisible character: neither has a place in a target."""
    if "%" in value:
        errors.add(path, ErrorCode.INVALID, f"{label} can't contain '%': IPv6 zone IDs only mean something on the sender's own machine")
        return False
    if _UNSAFE_CHARACTERS.search(value):
        errors.add(path, ErrorCode.INVALID, f"{label} can't contain control, bidi or invisible characters")
        return False
    return True


def _parse_address(literal: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(literal)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _target_address(errors: Errors, path: FieldPath, address: IPAddress, *, label: str, allow_local: bool) -> str | None:
    reason = None if allow_local else local_address_reason(address)
    if reason is not None:
        errors.add(
            path, ErrorCode.INVALID, f"{label} can't be {reason}: give an address of your PBX, public or in a private range"
        )
        return None
    return str(address)


def _ascii_host_name(name: str) -> str | None:
    """The name lower case, without the root's dot, its internationalised labels as A-labels; None when not valid IDNA.

    Plain ASCII labels are left to the host-name check: IDNA 2008 refuses
    some that DNS serves (e.g. "r3--sn-abc"), and they have one form already.
    """
    try:
        mapped = idna.uts46_remap(name, std3_rules=True, transitional=False)
        labels = mapped.removesuffix(".").split(".")
        return ".".join(
            label if label.isascii() and not label.startswith("xn--") else idna.alabel(label).decode("ascii") for label in labels
        )
    except (idna.IDNAError, UnicodeError):
        return None


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
    """A JSON object within Stripe's metadata limits, which hold for nested objects too."""
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add(path, ErrorCode.INVALID, "Metadata must be a JSON object of keys and values")
        return None
    before = len(errors.items)
    _metadata_object(errors, path, value, depth=0)
    if len(errors.items) > before:
        return None
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > METADATA_MAX_BYTES:
        errors.add(
            path, ErrorCode.TOO_LONG, f"Metadata is too large (at most {METADATA_MAX_BYTES} bytes as JSON, got {size})"
        )
        return None
    return value


def _metadata_object(errors: Errors, path: FieldPath, value: dict[str, Any], *, depth: int) -> None:
    """The same limits at every level. Each top-level key reports its first
    broken rule; a nested container stops at its first, so a hostile body
    can't multiply errors."""
    if len(value) > METADATA_MAX_KEYS:
        errors.add(path, ErrorCode.TOO_LONG, f"Metadata objects may hold at most {METADATA_MAX_KEYS} keys, got {len(value)}")
        return
    for key, item in value.items():
        before = len(errors.items)
        key = str(key)
        if len(key) > METADATA_MAX_KEY_LENGTH:
            errors.add(
                # A long key is named by its start: paths never echo long input.
                path + (excerpt(key, METADATA_MAX_KEY_LENGTH),),
                ErrorCode.TOO_LONG,
                f"Metadata key is too long (at most {METADATA_MAX_KEY_LENGTH} characters, got {len(key)})",
            )
        else:
            _metadata_value(errors, path + (key,), item, depth=depth + 1)
        if depth > 0 and len(errors.items) > before:
            return


def _metadata_value(errors: Errors, path: FieldPath, value: Any, *, depth: int) -> None:
    if depth > METADATA_MAX_DEPTH:
        errors.add(path, ErrorCode.INVALID, f"Metadata may nest at most {METADATA_MAX_DEPTH} levels deep")
    elif _CONTROL_CHARACTERS.search(path[-1]) or isinstance(value, str) and _CONTROL_CHARACTERS.search(value):
        errors.add(path, ErrorCode.INVALID, "Metadata keys and values can't contain control characters other than tab and line breaks")
    elif isinstance(value, str) and len(value) > METADATA_MAX_STRING_LENGTH:
        errors.add(
            path,
            ErrorCode.TOO_LONG,
            f"Metadata value is too long (at most {METADATA_MAX_STRING_LENGTH} characters, got {len(value)})",
        )
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and not _safe_number(value):
        errors.add(
            path,
            ErrorCode.INVALID,
            f"Metadata numbers must be finite and between -{METADATA_MAX_NUMBER} and {METADATA_MAX_NUMBER}, "
            "which every client holds exactly; send larger numbers as strings",
        )
    elif isinstance(value, dict):
        _metadata_object(errors, path, value, depth=depth)
    elif isinstance(value, list):
        before = len(errors.items)
        for index, item in enumerate(value):
            _metadata_value(errors, path + (str(index),), item, depth=depth + 1)
            if len(errors.items) > before:
                return


def _safe_number(value: int | float) -> bool:
    """Within ±(2**53 - 1). orjson reads a JSON integer too large for 64 bits as a float: refused here too."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return -METADATA_MAX_NUMBER <= value <= METADATA_MAX_NUMBER
