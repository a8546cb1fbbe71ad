"""Logging for every command and every server worker, configured one way."""

from __future__ import annotations

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
    "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
}


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
