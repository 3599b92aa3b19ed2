"""Names people chose on Telegram, made fit to show and to store."""

from __future__ import annotations

import unicodedata


def clean_name(name: str | None, limit: int = 120) -> str:
    """A display name fit to show and to store: no control or direction-changing characters
    (they can make a name read as something else), single spaces, at most ``limit``."""
    kept = "".join(" " if ch.isspace() else ch for ch in name or ""
                   if unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs")
                   or ch.isspace())
    return " ".join(kept.split())[:limit] or "?"
