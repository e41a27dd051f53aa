"""Logging for every command: request ids on records, JSON or text lines on stderr.

Standard library and orjson only: every `tradegraph` command configures logging before it does
anything, and the commands that serve nothing (seed, migrate) should not pay for the web stack.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

ACCESS_LOGGER = "tradegraph.access"
LogFormat = Literal["json", "text"]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def sane_request_id(value: str | None) -> str | None:
    """Return `value` if it may serve as a request id (≤ 128 of [A-Za-z0-9._-]), else None."""
    if value is not None and _REQUEST_ID.fullmatch(value):
        return value
    return None


# a random prefix per process and a counter: ids as unique as uuid4's, without a system call and
# a UUID object per request (a few percent of a cheap request's CPU); a forked child draws its own
_prefix: str
_counter: Iterator[int]


def _renew_prefix() -> None:
    global _prefix, _counter
    _prefix, _counter = uuid.uuid4().hex[:16], itertools.count()


_renew_prefix()
os.register_at_fork(after_in_child=_renew_prefix)


def new_request_id() -> str:
    """Return a new request id: 32 hex digits, never the same twice in any process."""
    return f"{_prefix}{next(_counter):016x}"


class RequestIdFilter(logging.Filter):
    """Sets `record.request_id` to the id of the request being handled (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


# attributes every LogRecord has; anything else on a record came from `extra=`
_RECORD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "color_message", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id, then any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """`LEVEL logger: message`, followed by `[request <id>]` for records emitted during a request."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        return f"{line} [request {request_id}]" if request_id else line


# uvicorn's loggers in JSON mode: everything through the root handler, and no access lines of
# its own (tradegraph.access writes one per request, with the request id)
_UVICORN_JSON_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {
        "uvicorn": {"handlers": [], "level": "INFO", "propagate": True},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["null"], "level": "INFO", "propagate": False},
    },
}


def configure_logging(log_format: LogFormat | None = None) -> None:
    """Log to stderr in `log_format` (default: the LOG_FORMAT setting), request ids included.

    Warnings and errors as before; in JSON mode also one `tradegraph.access` line per request,
    and uvicorn's own lines as JSON (its default logging config, which `tradegraph serve` uses,
    is pointed at the root handler)."""
    if log_format is None:
        from app.config import SettingsProblem, get_settings

        try:
            log_format = get_settings().log_format
        except SettingsProblem:
            log_format = "text"  # the command itself reports the bad setting
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    if log_format == "json":
        logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
        from uvicorn.config import LOGGING_CONFIG

        # uvicorn.Config's default `log_config` is this very dict: change it in place
        LOGGING_CONFIG.clear()
        LOGGING_CONFIG.update(_UVICORN_JSON_CONFIG)
