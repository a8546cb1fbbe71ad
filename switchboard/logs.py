"""Logging for every command and every server worker, configured one way."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS

from switchboard.settings import Settings

FORMATTERS: dict[str, dict[str, Any]] = {
    # One JSON object a line, for log collectors; fields passed as `extra`
    # (request id, organization, operation, status...) become keys, and
    # `process` tells the workers of one server apart. orjson's encoder: the
    # request log writes a line per request, and this halves its cost.
    "json": {
        "()": "pythonjsonlogger.orjson.OrjsonFormatter",
        "fmt": "%(levelname)s %(name)s %(process)d %(message)s",
        "rename_fields": {"levelname": "level", "name": "logger"},
        "timestamp": "time",
        # uvicorn repeats its messages with terminal colours as `color_message`.
        "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
    },
    "text": {"()": "switchboard.logs.OneLineFormatter", "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
}


class OneLineFormatter(logging.Formatter):
    """The text format: one line a record, whatever its message, arguments or traceback hold.

    A request path may carry %0A, %1B or U+2028: written as they are, they
    would start a line that looks like another record, or drive the terminal.
    """

    def format(self, record: logging.LogRecord) -> str:
        return escape(super().format(record))


def escape(text: str) -> str:
    """`text` with every character Python would not print (controls, line and paragraph separators,
    bidi and other format characters) and the backslash written as a Python string escape."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_escape_character(character) for character in text)


def _escape_character(character: str) -> str:
    if character.isprintable() and character != "\\":
        return character
    return character.encode("unicode_escape").decode("ascii")


def log_format(settings: Settings, stream: TextIO) -> str:
    """SWITCHBOARD_LOG_FORMAT when set; otherwise text for a person at a terminal in
    development, and JSON for whatever else reads `stream` (a log collector, a file)."""
    if settings.log_format is not None:
        return settings.log_format
    return "text" if not settings.is_production and stream.isatty() else "json"


def log_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary writing to stderr, also handed to uvicorn
    for its workers: the format is chosen once, here, for all of them."""
    chosen = log_format(settings, sys.stderr)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {chosen: FORMATTERS[chosen]},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": chosen, "stream": "ext://sys.stderr"},
        },
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            # uvicorn's loggers keep their own handlers unless told otherwise.
            **{name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
            # Tortoise logs every start and every close of its connections at
            # INFO ("Tortoise-ORM shutdown", once per command); its warnings
            # and errors still come through.
            "tortoise": {"level": "WARNING"},
        },
    }
