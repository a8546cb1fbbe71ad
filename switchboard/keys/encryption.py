"""Where the encryption keys come from when none are configured."""

from __future__ import annotations

import logging
import os

from models.secrets import generate_key
from switchboard.settings import Settings

log = logging.getLogger("switchboard")

KEY_FILE_NAME = "encryption.key"


def encryption_keys(settings: Settings) -> tuple[str, ...]:
    """The configured keys, or a key kept in the data directory.

    A generated key sits beside the SQLite file it protects, so it suits a
    single machine only; production sets SWITCHBOARD_ENCRYPTION_KEYS.
    """
    if settings.encryption_keys:
        return settings.encryption_keys
    path = settings.data_dir / KEY_FILE_NAME
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        log.warning("SWITCHBOARD_ENCRYPTION_KEYS is not set; using the key in %s", path)
        return (path.read_text().strip(),)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_key() + "\n")
    log.warning(
        "SWITCHBOARD_ENCRYPTION_KEYS is not set; generated a key into %s (mode 0600). "
        "Keep it safe: secrets stored with it cannot be read without it.",
        path,
    )
    return (path.read_text().strip(),)
