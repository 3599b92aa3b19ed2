"""Updates already applied, so that Telegram delivering one twice changes nothing twice; and
updates held back by the flood limit, to be handled when their sender's minute clears."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId
from models.encryption import EncryptedText


class ProcessedUpdate(Base):
    """Update ids already applied: a redelivered update changes nothing twice."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)


class HeldUpdate(Base):
    """A private update that came while its sender was over the flood limit: kept (encrypted: it
    may hold their answer) and handled, in the order it came, once their minute clears
    (``handlers/limits.py``). Never dropped, never asked for again."""

    __tablename__ = "held_updates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_hash: Mapped[str] = mapped_column(String(64), index=True)  # Vault.hash_id of the sender
    update_id: Mapped[int] = mapped_column(BigInteger, unique=True)  # a redelivery is held once
    payload: Mapped[str] = mapped_column(EncryptedText)  # the update as Telegram sent it (JSON)
    held_at: Mapped[datetime]
    # Set while one worker handles it; a worker that died leaves it to be taken again after.
    claimed_until: Mapped[datetime | None]
