"""A submitted report: the case officers handle, with its evidence and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.domain.tiers import HIGH, NORMAL, URGENT
from models.base import Base, BigId
from models.encryption import EncryptedText

__all__ = ["HIGH", "NORMAL", "URGENT", "Case", "CaseEvent", "Evidence"]


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # The escalation sweep reads only due, unacknowledged cases: this keeps it flat in size.
        Index("ix_cases_ack_deadline", "ack_deadline"),
        # The sweep's other two questions: police-report reminders due, and cases nobody received.
        Index("ix_cases_police_due", "police_reminded", "police_deadline"),
        # Partial on SQLite: after ANALYZE its planner sees a column that is almost always false
        # and would scan the table for the few unrouted cases (PostgreSQL's statistics know).
        # The condition is written as SQLAlchemy renders ``Case.unrouted.is_(True)`` there.
        Index("ix_cases_unrouted", "unrouted", sqlite_where=text("unrouted IS 1")),
        Index("ix_cases_reporter_created", "reporter_id", "created_at"),
        # Retention: closed cases whose content is still there (bot/services/privacy.py).
        Index("ix_cases_retention", "erased_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # Makes a double submit (two presses, a redelivered update) land on the same case.
    submit_key: Mapped[str] = mapped_column(String(40), unique=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(24), default="baru")
    priority: Mapped[str] = mapped_column(String(8))
    urgent: Mapped[bool] = mapped_column(default=False)
    practice: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(String(5), default="id")

    reporter_role: Mapped[str] = mapped_column(String(16))
    victim_category: Mapped[str] = mapped_column(String(8))
    victim_sex: Mapped[str] = mapped_column(String(8))
    victim_age_band: Mapped[str] = mapped_column(String(8))
    victim_age: Mapped[int | None]
    victim_count: Mapped[int] = mapped_column(default=1)
    violence_types: Mapped[list[str]] = mapped_column(JSON)
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    place: Mapped[str] = mapped_column(String(24))  # "lembaga_pendidikan" is 18
    landmark: Mapped[str | None] = mapped_column(EncryptedText)
    occurred: Mapped[str] = mapped_column(String(12))
    perpetrator: Mapped[str] = mapped_column(String(16))
    narrative: Mapped[str | None] = mapped_column(EncryptedText)
    contact_allowed: Mapped[bool] = mapped_column(default=False)
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    contact_time: Mapped[str | None] = mapped_column(String(12))

    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    # Routing and escalation state (see bot/routing.py, bot/escalation.py).
    tier: Mapped[str | None] = mapped_column(String(12))
    ack_deadline: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    police_deadline: Mapped[datetime | None]
    police_reminded: Mapped[bool] = mapped_column(default=False)
    unrouted: Mapped[bool] = mapped_column(default=False)
    consent_withdrawn: Mapped[bool] = mapped_column(default=False)
    # When the reporter's content was erased (withdrawal or retention); only anonymous figures
    # remain (bot/services/reporter_data.py).
    erased_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    referral: Mapped[str | None] = mapped_column(String(16))
    close_reason: Mapped[str | None] = mapped_column(String(16))
    # Who handles the case now (took it, or took it over): their Telegram user id (an officer's
    # or an enrolled village group member's, never a reporter's) and the name shown.
    handler_user_id: Mapped[int | None] = mapped_column(BigInteger)
    handler_name: Mapped[str | None] = mapped_column(String(120))


class Evidence(Base):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # photo | voice | video | document | audio
    file_id: Mapped[str] = mapped_column(EncryptedText)
    file_unique_id: Mapped[str] = mapped_column(String(64))
    size: Mapped[int | None]
    caption: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime]


class CaseEvent(Base):
    """One line of a case's history: who did what, when. ``secret`` holds note or message text."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))  # "system", "reporter", "officer:<id>", ...
    actor_name: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secret: Mapped[str | None] = mapped_column(EncryptedText)
