"""Services and referrals of a case, the provider directory, and the follow-ups and legal deadlines
that remind and alarm (DESIGN §5).

- ``Provider``: one provider of one kind of service (the directory admins edit, seeded from
  ``bot/data/paser_layanan.csv``; another district loads its own with ``ppa-bot providers
  import``). No phone number is stored here: contacts come from the configuration.
- ``CaseServiceRecord``: one service a case receives (health care, legal aid, shelter, ...), with
  its provider, dates, status and the survivor's consent to that referral.
- ``FollowUp``: a stage or a service that should have moved on by ``due_at``; the holder is
  reminded once (``reminded_at``) unless it was met first (``done_at``).
- ``DeadlineAlarm``: one alarm of a legal deadline that was raised (the UU TPKS police deadline:
  24 h before, 6 h before, overdue). Its key makes each alarm happen once, whatever restarts or
  workers there are.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId


class Provider(Base):
    __tablename__ = "providers"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))  # a service kind (bot/domain/services.py)
    name: Mapped[str] = mapped_column(String(120))
    kecamatan: Mapped[str | None] = mapped_column(String(80))  # where it sits; None: not known
    active: Mapped[bool] = mapped_column(default=True)
    # "shipped" (the CSV in bot/data), "import:<id>" (ppa-bot providers import), "admin:<hash>".
    source: Mapped[str] = mapped_column(String(40), default="shipped")
    updated_at: Mapped[datetime]


class CaseServiceRecord(Base):
    """One service given to (or planned for) a case's survivor."""

    __tablename__ = "case_services"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1, 2, ... within the case
    kind: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id",
                                                               ondelete="SET NULL"))
    provider_name: Mapped[str | None] = mapped_column(String(120))  # as chosen or typed
    status: Mapped[str] = mapped_column(String(16), default="direncanakan")
    started_on: Mapped[date | None]
    follow_up_at: Mapped[datetime | None]
    ended_on: Mapped[date | None]
    # The survivor's consent to this referral: None not asked yet, "asked" (through the relay,
    # waiting), "yes", "no"; how it was obtained: relay, langsung, telepon, wali.
    consent: Mapped[str | None] = mapped_column(String(8))
    consent_via: Mapped[str | None] = mapped_column(String(12))
    consent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FollowUp(Base):
    __tablename__ = "follow_ups"
    # The sweep asks only for what is due and not yet reminded or met.
    __table_args__ = (Index("ix_follow_ups_due", "reminded_at", "done_at", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_services.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(32))  # the stage, or the service's kind
    due_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]


class DeadlineAlarm(Base):
    __tablename__ = "deadline_alarms"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         primary_key=True)
    deadline: Mapped[str] = mapped_column(String(16), primary_key=True)  # "police"
    step: Mapped[str] = mapped_column(String(16), primary_key=True)  # "24h", "6h", "overdue"
    at: Mapped[datetime]
    recipients: Mapped[int] = mapped_column(default=0)
    holder: Mapped[int | None] = mapped_column(BigInteger)  # who held the case then


class ServiceInput(Base):
    """"Type the provider's name now": a button put this officer in a short input mode for one
    case and kind of service. Kept in the database, so a restart loses nothing."""

    __tablename__ = "service_inputs"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime]
