"""structlog set up for JSON lines carrying the request id; no personal data is logged.

Libraries log through the standard `logging` module (Alembic, APScheduler, werkzeug, SQLAlchemy);
their records go through the same renderer, so every line on stderr is one JSON object.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from typing import TextIO

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


# SQLite names the columns of a failed constraint, never the values: safe to keep.
_SQLITE_CONSTRAINT = re.compile(r"^(UNIQUE|NOT NULL|CHECK|FOREIGN KEY) constraint failed(: [\w., ]+)?$")


def describe_error(error: BaseException) -> str:
    """What failed, without the message: a driver's message carries the data of the statement
    ("Key (email)=(li@example.com) already exists", SQLAlchemy's "[parameters: ...]"), and any
    exception's text may name a member. So: the exception's type, the driver's, and the
    constraint's name."""
    parts = [type(error).__name__]
    original = getattr(error, "orig", None)
    if original is not None:
        parts.append(f"{type(original).__module__}.{type(original).__name__}")
        diag = getattr(original, "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        if constraint:
            parts.append(f"constraint {constraint}")
        elif _SQLITE_CONSTRAINT.match(str(original.args[0]) if original.args else ""):
            parts.append(str(original.args[0]))
    return " ".join(parts[:1]) + (f" ({', '.join(parts[1:])})" if parts[1:] else "")


def _frames(error: BaseException) -> list[str]:
    return [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(error.__traceback__)]


def safe_exc_info(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """In place of structlog's format_exc_info: the exception as `describe_error` says it, and
    where it was raised (files, lines, functions), never its message."""
    exc_info = event_dict.pop("exc_info", None)
    if not exc_info:
        return event_dict
    if exc_info is True:
        exc_info = sys.exc_info()
    error = exc_info if isinstance(exc_info, BaseException) else (exc_info[1] if isinstance(exc_info, tuple) else None)
    if error is not None:
        event_dict["error"] = describe_error(error)
        event_dict["traceback"] = _frames(error)[-12:]
    return event_dict


class _StdlibMessageGuard(logging.Filter):
    """Libraries log exceptions through the standard module with exc_info: drop the preformatted
    text (`exc_text`, which holds the message) so only safe_exc_info renders them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_text = None
        return True


class _JsonLinesHandler(logging.StreamHandler[TextIO]):
    """The root handler this module installs (found again and replaced when logging is reconfigured)."""


def _route_stdlib(renderer: Processor, level: int) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, safe_exc_info, renderer],
    )
    handler = _JsonLinesHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(_StdlibMessageGuard())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _JsonLinesHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    numeric = getattr(logging, level, logging.INFO)
    renderer: Processor = (
        structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)
    )
    _route_stdlib(renderer, numeric)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*_SHARED, safe_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def enabled(level: int) -> bool:
    """Whether lines of `level` are written (configure_logging gives the standard root logger the same
    level). For a line written on every request: structlog's lazy logger binds itself anew on each
    call, about 10 µs even when its level then drops the line."""
    return logging.getLogger().isEnabledFor(level)


def get_logger(name: str = "loyalty") -> FilteringBoundLogger:
    logger: FilteringBoundLogger = structlog.get_logger(name)
    return logger
