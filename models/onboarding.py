"""Onboarding: a village group's request to be registered, the members of approved groups (their
requests to enrol and the history of every grant and removal), and the one-time links that
register officers and village members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
REPLACED = "replaced"  # the group asked again for another village

OFFICER_ROLE = "officer"
ADMIN_ROLE = "admin"
MEMBER_ROLE = "member"  # an invitation to enrol in one village group


class GroupRequest(Base):
    """``/daftar`` in a group: "make this chat the PAPTBM group of that village", for an admin."""

    __tablename__ = "group_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    title: Mapped[str] = mapped_column(String(128))
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    requester_id: Mapped[int] = mapped_column(BigInteger)
    requester_name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(120))


class GroupMember(Base):
    """A member of an approved village group whom the district enrolled (an approved ``/gabung``,
    an invitation, or ``ppa-bot responders add-member``): may read the details of that village's
    cases in private chat while ``active`` and still in the group. Never deleted: an enrolment
    that ended keeps its row (and ``ended_reason``), and a new grant makes it active again."""

    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("responder_id", "user_id", name="uq_group_members_user"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"),
                                              index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    granted_by: Mapped[str | None] = mapped_column(String(64))  # "officer:<id>", "cli", ...
    ended_reason: Mapped[str | None] = mapped_column(String(16))  # left | removed | revoked ...
    created_at: Mapped[datetime]
    changed_at: Mapped[datetime]


class EnrolmentRequest(Base):
    """``/gabung`` in an approved group: "let me read this village's cases", for an officer or admin
    of the area to approve (Setujui) or refuse (Tolak). A pending request opens nothing."""

    __tablename__ = "enrolment_requests"
    __table_args__ = (
        Index("ix_enrolment_requests_member", "responder_id", "user_id"),
        # One waiting request per person and group, even when two /gabung arrive at once.
        Index("uq_enrolment_requests_pending", "responder_id", "user_id", unique=True,
              sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(120))
    username: Mapped[str | None] = mapped_column(String(40))
    group_title: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(120))


class EnrolmentEvent(Base):
    """One line of a village group's enrolment history: who was granted or lost access, when,
    by whom and why. Admins and officers of the area read it (``/grup`` → the group)."""

    __tablename__ = "enrolment_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"),
                                              index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))  # requested | granted | refused | ended
    user_id: Mapped[int] = mapped_column(BigInteger)  # the member concerned
    name: Mapped[str] = mapped_column(String(120))
    actor: Mapped[str] = mapped_column(String(64))  # "officer:<id>", "cli", "telegram", "system"
    actor_name: Mapped[str | None] = mapped_column(String(120))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Invitation(Base):
    """A one-time, expiring ``t.me/<bot>?start=inv_<token>`` link bound to a role and a region
    (and, for a village member, to the village's group).
    Only a hash of the token is kept: the link itself exists only in the admin's chat."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(8))  # officer | admin | member
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    # A member's invitation: the village group it enrols in.
    responder_id: Mapped[int | None] = mapped_column(ForeignKey("responders.id",
                                                                ondelete="CASCADE"))
    created_by: Mapped[int] = mapped_column(BigInteger)  # the admin's Telegram user id
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(BigInteger)
