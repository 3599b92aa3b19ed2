"""A small encrypted row written at first start: the bot refuses to start with keys that cannot
read it (a lost, wrong or half-restored key file), instead of writing new data nobody can join
with the old."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.encryption import EncryptedText

CANARY_ID = 1
CANARY_TEXT = "ppa-bot key canary"


class KeyCanary(Base):
    __tablename__ = "key_canary"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # CANARY_TEXT under the Fernet key in use (re-encrypted by a rotation like every secret).
    sealed: Mapped[str] = mapped_column(EncryptedText)
    # Vault.lookup_check(): a fingerprint of the lookup key, never rotated.
    lookup_check: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
