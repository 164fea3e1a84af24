"""Logging: plain text or one JSON object per line, each carrying the id of its request.

The id comes from the request's `X-Request-Id` header when it is a short token, else it is
made fresh; the HTTP layer sets it for the request's duration (`REQUEST_ID`) and returns it
in the `X-Request-Id` response header, so a client's report can be matched to the log lines.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: The id of the request being served (None outside requests).
REQUEST_ID: ContextVar[str | None] = ContextVar("mindkeeper_request_id", default=None)

_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the attribute; never drops a record."""
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record."""
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            data["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in data and key != "request_id":
                data[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def log_config(log_format: str, level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server (uvicorn's loggers and ours)."""
    text = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    formatter: dict[str, Any] = (
        {"()": "mindkeeper.logs.JsonFormatter"} if log_format == "json" else {"format": text}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    loggers = {
        name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
        for name in ("mindkeeper", "uvicorn", "uvicorn.error", "uvicorn.access")
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "mindkeeper.logs.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": loggers,
    }


def uvicorn_log_config(log_format: str, level: str) -> dict[str, Any]:
    """The server's logging: uvicorn's own for `text`, JSON lines with request ids for `json`."""
    if log_format != "json":
        from uvicorn.config import LOGGING_CONFIG

        return LOGGING_CONFIG
    return log_config(log_format, level)
