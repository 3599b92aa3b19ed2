"""Logging: one line per event, as text or JSON, and never what people wrote or who they are.

An exception is logged as its type and a sanitised stack (every frame's file, line and function),
never its message or locals: a message may quote what someone wrote (a database error quotes the
statement's values) or the bot's token (PTB's "token ... was rejected"). That holds for our own
lines (``sanitised_stack``) and for any library's ``log.exception`` (the formatters below).
"""

from __future__ import annotations

import json
import logging
import sysconfig
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

# Libraries that would log content or identity, held at these levels whatever the root level:
# httpx logs request URLs (which hold the token), PTB's bot logs every call's parameters (chat ids,
# texts) at DEBUG, SQLAlchemy's echo logs bound values.
QUIET_LOGGERS = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,
    "aiosqlite": logging.INFO,
    "apscheduler": logging.WARNING,
    "alembic": logging.WARNING,
    "tornado.access": logging.WARNING,
    "fontTools": logging.WARNING,  # PDF font subsetting (posters) reports every table at INFO
    "fpdf": logging.WARNING,
}


PROJECT_ROOT = Path(__file__).resolve().parent.parent
LIBRARY_ROOTS = sorted({Path(p) for p in (sysconfig.get_paths()["purelib"],
                                          sysconfig.get_paths()["platlib"],
                                          sysconfig.get_paths()["stdlib"])},
                       key=lambda p: len(p.parts), reverse=True)
MAX_CHAINED = 4  # an exception, what caused it, and so on


def _short_path(filename: str) -> str:
    """Our files relative to the project, libraries relative to site-packages or the stdlib."""
    path = Path(filename)
    for root in (*LIBRARY_ROOTS, PROJECT_ROOT):  # a venv inside the project is a library
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return filename


def _type_name(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" \
        else f"{kind.__module__}.{kind.__qualname__}"


def _frames(tb: TracebackType | None) -> str:
    # Each frame's file, line and function only: no source line, no locals (lookup_lines off).
    summary = traceback.StackSummary.extract(traceback.walk_tb(tb), lookup_lines=False,
                                             capture_locals=False)
    return " > ".join(f"{_short_path(f.filename)}:{f.lineno} in {f.name}" for f in summary)


def sanitised_stack(error: BaseException) -> str:
    """``Type at frame > frame ...`` from the outermost call to where it was raised, then what
    caused it (``caused by`` / ``while handling``); never a message or a local variable."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link = ""
    while current is not None and id(current) not in seen and len(parts) < MAX_CHAINED:
        seen.add(id(current))
        parts.append(f"{link}{_type_name(current)} at {_frames(current.__traceback__) or '?'}")
        if current.__cause__ is not None:
            current, link = current.__cause__, "caused by "
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "while handling "
        else:
            current = None
    return "; ".join(parts)


def _exception_of(record: logging.LogRecord) -> BaseException | None:
    info = record.exc_info
    if isinstance(info, tuple) and isinstance(info[1], BaseException):
        return info[1]
    return None


class SafeFormatter(logging.Formatter):
    """Text, one line: an exception is appended as its sanitised stack, never as a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        error = _exception_of(record)
        safe = logging.makeLogRecord(record.__dict__)
        safe.exc_info, safe.exc_text, safe.stack_info = None, None, None
        line = super().format(safe)
        if error is not None:
            line += f" [{sanitised_stack(error)}]"
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        error = _exception_of(record)
        if error is not None:
            entry["exception"] = sanitised_stack(error)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: int | str = logging.INFO, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(floor)
