"""Who receives alerts: village group chats and officers, each bound to a region, and their
alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

# The tiers are the domain's words (bot/domain/tiers.py); a responder row stores one of them.
from bot.domain.tiers import DESA, KABUPATEN_TIER, KECAMATAN_TIER, TIERS
from models.base import Base, BigId

GROUP = "group"
OFFICER = "officer"

__all__ = ["DESA", "GROUP", "KABUPATEN_TIER", "KECAMATAN_TIER", "OFFICER", "TIERS", "Alert",
           "Responder"]


class Responder(Base):
    __tablename__ = "responders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # group | officer
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    is_admin: Mapped[bool] = mapped_column(default=False)
    # An officer's language (/bahasa); None: Telegram's. Staff are kept here, never as reporters.
    language: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(default=True)
    inactive_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    changed_at: Mapped[datetime]


class Alert(Base):
    """One alert message about one case in one responder's chat."""

    __tablename__ = "alerts"
    # One alert per case and responder: escalation and rerouting never alert a chat twice.
    __table_args__ = (UniqueConstraint("case_id", "responder_id",
                                       name="uq_alerts_case_responder"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id"), index=True)
    tier: Mapped[str] = mapped_column(String(12))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None]
    created_at: Mapped[datetime]
