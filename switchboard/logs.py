"""Logging for every command and every server worker, configured one way."""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS

from switchboard.settings import Settings

FORMATTERS: dict[str, dict[str, Any]] = {
    # One JSON object a line, for log collectors; fields passed as `extra`
    # (request id, organization, operation, status...) become keys, and
    # `process` tells the workers of one server apart.
    "json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
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


def log_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary, also handed to uvicorn for its workers."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {settings.log_format: FORMATTERS[settings.log_format]},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": settings.log_format, "stream": "ext://sys.stderr"},
        },
        "root": {"handlers": ["stderr"], "level": "INFO"},
        # uvicorn's loggers keep their own handlers unless told otherwise.
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }
