"""Encryption at rest: authenticated, bound to its row and column, rotatable."""

from __future__ import annotations

import pytest

from models.secrets import SecretBox, SecretDecryptionError, SecretKeyError, generate_key


def test_round_trip_and_binding() -> None:
    box = SecretBox([generate_key()])
    token = box.encrypt("hunter2", "phone_numbers:1:sip_password_encrypted")
    assert "hunter2" not in token
    assert box.decrypt(token, "phone_numbers:1:sip_password_encrypted") == "hunter2"
    with pytest.raises(SecretDecryptionError):
        box.decrypt(token, "phone_numbers:2:sip_password_encrypted")


def test_tampering_is_detected() -> None:
    box = SecretBox([generate_key()])
    token = box.encrypt("hunter2", "ctx")
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with pytest.raises(SecretDecryptionError):
        box.decrypt(flipped, "ctx")


def test_old_keys_still_decrypt_and_new_key_encrypts() -> None:
    old, new = generate_key(), generate_key()
    token = SecretBox([old]).encrypt("s", "ctx")
    rotated = SecretBox([new, old])
    assert rotated.decrypt(token, "ctx") == "s"
    assert not rotated.sealed_with_primary(token)
    assert rotated.sealed_with_primary(rotated.encrypt("s", "ctx"))
    with pytest.raises(SecretDecryptionError):
        SecretBox([new]).decrypt(token, "ctx")


@pytest.mark.parametrize("key", ["", "short", "x" * 44])
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(SecretKeyError):
        SecretBox([key])
