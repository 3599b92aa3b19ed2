"""An unfinished report: the current question and every answer so far, saved after each answer.

Two kinds, never mixed: a reporter's report (``REPORT``, one per reporter) and an officer's record
of a case that came another way (``INTAKE``, ``/kasus_baru``: one per officer, found by the keyed
hash of their Telegram id, with no reporter record). A staff member who also reports keeps both."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId
from models.encryption import EncryptedText

REPORT = "report"
INTAKE = "intake"


class Draft(Base):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8), default=REPORT)
    # A reporter's draft: its reporter. None for an officer's intake draft.
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("reporters.id", ondelete="CASCADE"), unique=True
    )
    # An officer's intake draft: the keyed hash of their Telegram id (``Vault.hash_id``).
    staff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Random per draft: buttons carry it, so a button from an older draft is recognised as stale.
    nonce: Mapped[str] = mapped_column(String(8))
    step: Mapped[str] = mapped_column(String(32))
    editing: Mapped[bool] = mapped_column(default=False)
    urgent: Mapped[bool] = mapped_column(default=False)
    practice: Mapped[bool] = mapped_column(default=False)
    answers: Mapped[str] = mapped_column(EncryptedText)  # JSON of every answer, encrypted
    # Bumped by every write of an answer, which is made only if the version is still the one read
    # (``UPDATE … WHERE version = :read``): two writers can never both apply on the same state.
    version: Mapped[int] = mapped_column(default=0)
    # The newest update ids applied to this draft (up to ``RECENT_UPDATES``, space-separated):
    # Telegram delivering one of them again, or any older one, changes nothing twice.
    recent_updates: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
