"""Logging: one line per event, as text or JSON, and never what people wrote or who they are."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

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
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: int | str = logging.INFO, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(floor)
