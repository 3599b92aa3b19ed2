"""A submitted report: the case officers handle, with its evidence and its history."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.domain.tiers import HIGH, NORMAL, URGENT
from models.base import Base, BigId
from models.encryption import EncryptedText

__all__ = ["HIGH", "NORMAL", "URGENT", "Case", "CaseEvent", "Evidence"]


def new_public_id() -> str:
    """What buttons carry instead of the row id: random, so it tells nobody how many cases exist
    or which one came before another (12 characters of ``[A-Za-z0-9_-]``)."""
    return secrets.token_urlsafe(9)


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
    # ``PSR-26-K7Q3XM`` for a case made in ppa-bot; an imported case keeps its register's own.
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    # Callback data names the case by this, never by ``id`` (sequential, so countable).
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    # Makes a double submit (two presses, a redelivered update) land on the same case.
    submit_key: Mapped[str] = mapped_column(String(40), unique=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(24), default="baru")
    priority: Mapped[str] = mapped_column(String(8))
    urgent: Mapped[bool] = mapped_column(default=False)
    practice: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(String(5), default="id")

    # What the reporter told, as the report form asked it (the alert, the card and the per-case
    # sheet show these). The SIMFONI-PPA record of each person is in ``victims`` and
    # ``perpetrators`` below. None: not known (a case imported from a past register).
    reporter_role: Mapped[str | None] = mapped_column(String(16))
    victim_category: Mapped[str | None] = mapped_column(String(8))
    victim_sex: Mapped[str | None] = mapped_column(String(8))
    victim_age_band: Mapped[str | None] = mapped_column(String(8))
    victim_age: Mapped[int | None]
    victim_count: Mapped[int] = mapped_column(default=1)
    violence_types: Mapped[list[str]] = mapped_column(JSON)
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    # A SIMFONI-PPA place code (bot/domain/simfoni.PLACES), or the old form's
    # "lembaga_pendidikan", which has no SIMFONI-PPA counterpart and is kept as it was chosen.
    place: Mapped[str | None] = mapped_column(String(24))
    landmark: Mapped[str | None] = mapped_column(EncryptedText)
    occurred: Mapped[str | None] = mapped_column(String(12))
    perpetrator: Mapped[str | None] = mapped_column(String(16))
    # SIMFONI-PPA "Tanggal Kejadian": a day, or only its month or year (``incident_precision``
    # "day" | "month" | "year"; the date is then the first of that month or year). None: not known.
    incident_date: Mapped[date | None]
    incident_precision: Mapped[str | None] = mapped_column(String(5))
    # How the case came in (bot/domain/simfoni.INTAKE_CHANNELS): "bot" for a report made here.
    # None: not known (an imported register that did not say).
    channel: Mapped[str | None] = mapped_column(String(24), default="bot")
    # Set for a case loaded by ``ppa-bot cases import``: the import's id (also in its history).
    import_batch: Mapped[str | None] = mapped_column(String(16), index=True)
    # A location the reporter shared ("lat,lon"), for the outreach visit: encrypted, shown only
    # in the details sent in private, never in an alert or an export.
    location: Mapped[str | None] = mapped_column(EncryptedText)
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
    # Sent later by the reporter, as a message about their report (not with the report itself):
    # read only by whoever handles the case and the officers of the area.
    from_message: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    # The file itself, kept by the bot (bot/services/evidence.py): downloaded through the Bot API,
    # encrypted with a key of its own (``file_key``, itself encrypted at rest) in the evidence
    # folder as ``stored``; ``sha256`` of the plaintext, taken when it was received.
    stored: Mapped[str | None] = mapped_column(String(64))
    file_key: Mapped[str | None] = mapped_column(EncryptedText)
    sha256: Mapped[str | None] = mapped_column(String(64))
    stored_size: Mapped[int | None]
    extension: Mapped[str | None] = mapped_column(String(12))
    downloaded_at: Mapped[datetime | None]
    # Larger than the Bot API lets a bot download (20 MB): kept as the Telegram file id only.
    too_big: Mapped[bool] = mapped_column(default=False)


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


class Victim(Base):
    """One victim of a case, with the SIMFONI-PPA fields (docs/SIMFONI.md, "Each victim").

    Codes are those of ``bot/domain/simfoni.py``; None is "not known" (exported as ``NA``).
    No name, address, telephone, NIK or date of birth: identity stays out of ppa-bot."""

    __tablename__ = "victims"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1, 2, ... within the case ("Korban ke-")
    sex: Mapped[str | None] = mapped_column(String(1))
    age: Mapped[int | None]
    age_band: Mapped[str | None] = mapped_column(String(8))
    # Under 18: from the age when known, else what the reporter said (a child, a woman).
    is_child: Mapped[bool | None]
    violence: Mapped[list[str]] = mapped_column(JSON, default=list)
    education: Mapped[str | None] = mapped_column(String(24))
    occupation: Mapped[str | None] = mapped_column(String(24))
    marital_status: Mapped[str | None] = mapped_column(String(16))
    disability: Mapped[str | None] = mapped_column(String(8))
    # "Pelayanan yang Diberikan" as a register states it (an imported row); service records
    # of their own, with dates and consent, are a later part of the register.
    services: Mapped[list[str]] = mapped_column(JSON, default=list)


class Perpetrator(Base):
    """One perpetrator of a case; how they relate to each victim is in ``victim_perpetrators``."""

    __tablename__ = "perpetrators"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    number: Mapped[int]
    sex: Mapped[str | None] = mapped_column(String(1))
    age: Mapped[int | None]


class VictimPerpetrator(Base):
    """Who harmed whom, and the relation (SIMFONI-PPA writes it per victim: one perpetrator can be
    a father to one victim and a neighbour to another). ``relation`` None: not known."""

    __tablename__ = "victim_perpetrators"

    victim_id: Mapped[int] = mapped_column(ForeignKey("victims.id", ondelete="CASCADE"),
                                           primary_key=True)
    perpetrator_id: Mapped[int] = mapped_column(
        ForeignKey("perpetrators.id", ondelete="CASCADE"), primary_key=True, index=True)
    relation: Mapped[str | None] = mapped_column(String(24))
