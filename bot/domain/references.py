"""Case references (DESIGN §3): ``PSR-26-K7Q3XM``, a configurable prefix, the two-digit year and
six characters from an alphabet without 0/O and 1/I. Not sequential and not a key: a reporter
sees only the reports made from their own account."""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
LENGTH = 6
PATTERN = re.compile(r"^[A-Z]{2,6}-\d{2}-[A-HJ-NP-Z2-9]{6}$")


def new_reference(prefix: str, year: int) -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{prefix}-{year % 100:02d}-{code}"


def normalise_reference(text: str) -> str | None:
    """``psr_26_k7q3xm``, `` PSR-26-K7Q3XM `` → ``PSR-26-K7Q3XM``; None if it cannot be one."""
    candidate = text.strip().upper().replace("_", "-")
    return candidate if PATTERN.match(candidate) else None


def case_command(reference: str, command: str = "kasus") -> str:
    """A reference as a command Telegram lets one tap: ``/kasus_PSR_26_K7Q3XM``."""
    return f"/{command}_{reference.replace('-', '_')}"
