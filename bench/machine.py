"""The machine a figure was measured on, printed before the figures."""

from __future__ import annotations

import os
import platform
import sqlite3
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "?"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def filesystem(path: Path) -> str:
    """The file system type holding ``path`` (fsync cost depends on it)."""
    try:
        best = ("", "?")
        for line in Path("/proc/mounts").read_text().splitlines():
            _device, mount, kind, *_ = line.split()
            if str(path.resolve()).startswith(mount) and len(mount) > len(best[0]):
                best = (mount, kind)
        return best[1]
    except OSError:
        return "?"


def describe(workdir: Path, postgres_version: str | None) -> list[str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"CPU: {cpu_model()}, {os.cpu_count()} cores ({usable} usable), memory {memory_gib()}",
        f"OS: {platform.system()} {platform.release()}; databases on {filesystem(workdir)}",
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, PostgreSQL "
        f"{postgres_version or 'not used'}",
        f"python-telegram-bot {_version('python-telegram-bot')}, SQLAlchemy "
        f"{_version('SQLAlchemy')}, aiosqlite {_version('aiosqlite')}, asyncpg "
        f"{_version('asyncpg')}",
        f"load average at start: {load}",
    ]
