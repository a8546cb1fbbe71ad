"""Authenticated encryption of provider secrets before they reach a column.

Each value is sealed with AES-256-GCM under the first configured key, with
the row and column it belongs to as associated data: a ciphertext copied to
another row or column does not decrypt. Every configured key can open values,
so a new key can be put first and old values re-encrypted at leisure.

The same keys sign what the API hands out and must take back unaltered
(cursors): signed with the first key, verified with any configured one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"
_NONCE_BYTES = 12


class SecretKeyError(ValueError):
    """A configured encryption key is malformed."""


class SecretDecryptionError(Exception):
    """A stored value cannot be opened with any configured key."""


def generate_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


def _decode_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise SecretKeyError(
            "each encryption key must be 32 bytes in URL-safe base64 "
            "(generate one with `switchboard generate-encryption-key`)"
        )
    return raw


def key_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:8]


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise SecretKeyError("at least one encryption key is required")
        decoded = [_decode_key(k) for k in keys]
        self._primary_id = key_id(decoded[0])
        self._raw = {key_id(raw): raw for raw in reversed(decoded)}
        self._ciphers = {kid: AESGCM(raw) for kid, raw in self._raw.items()}
        # Each configured key once, the first first.
        self._order = list(dict.fromkeys(key_id(raw) for raw in decoded))
        self._mac_keys: dict[str, list[bytes]] = {}

    @property
    def primary_key_id(self) -> str:
        return self._primary_id

    @property
    def primary_prefix(self) -> str:
        """How every value sealed with the first key begins."""
        return f"{_VERSION}:{self._primary_id}:"

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self._primary_id].encrypt(nonce, plaintext.encode(), context.encode())
        payload = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{_VERSION}:{self._primary_id}:{payload}"

    def decrypt(self, token: str, context: str) -> str:
        try:
            version, kid, payload = token.split(":", 2)
            blob = base64.urlsafe_b64decode(payload.encode())
        except (ValueError, binascii.Error) as exc:
            raise SecretDecryptionError("stored secret is malformed") from exc
        cipher = self._ciphers.get(kid)
        if version != _VERSION or cipher is None:
            raise SecretDecryptionError("stored secret was sealed with a key that is not configured")
        try:
            return cipher.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], context.encode()).decode()
        except InvalidTag as exc:
            raise SecretDecryptionError("stored secret does not belong to this row or was altered") from exc

    def sealed_with_primary(self, token: str) -> bool:
        return token.startswith(self.primary_prefix)

    def mac(self, purpose: str, message: bytes) -> bytes:
        """HMAC-SHA256 of `message` under a key derived for `purpose` from the first key: to sign with."""
        return hmac.digest(self._keys_for(purpose)[0], message, "sha256")

    def macs(self, purpose: str, message: bytes) -> list[bytes]:
        """`mac` under each configured key, the first key's first: to verify with.

        Every server configured alike computes the same; a value signed with the
        first key verifies for as long as that key stays configured.
        """
        return [hmac.digest(key, message, "sha256") for key in self._keys_for(purpose)]

    def _keys_for(self, purpose: str) -> list[bytes]:
        keys = self._mac_keys.get(purpose)
        if keys is None:
            keys = self._mac_keys[purpose] = [_derived_key(self._raw[kid], purpose) for kid in self._order]
        return keys

    def legacy_fingerprint_matches(self, fingerprint: str, message: str) -> bool:
        """Whether an idempotency fingerprint of the earlier form (`<key id>:<HMAC>`) is of `message`.

        Only records written before fingerprints left secrets out have it; an
        idempotency key expires 24 hours after its first use, so this can go once
        none is younger.
        """
        kid, _, digest = fingerprint.partition(":")
        if kid not in self._raw:
            return False
        mac_key = hashlib.sha256(b"switchboard-fingerprint:" + self._raw[kid]).digest()
        return hmac.compare_digest(digest, hmac.new(mac_key, message.encode(), hashlib.sha256).hexdigest())


def _derived_key(raw: bytes, purpose: str) -> bytes:
    # A key of its own per purpose: the encryption key never doubles as a MAC key.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"switchboard:" + purpose.encode()).derive(raw)
