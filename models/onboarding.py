"""Onboarding: a village group's request to be registered, the members of approved groups, and
the one-time links that register officers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
REPLACED = "replaced"  # the group asked again for another village

OFFICER_ROLE = "officer"
ADMIN_ROLE = "admin"


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
    """A member of an approved village group who enrolled with ``/gabung``: may read the details
    of that village's cases in private chat."""

    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("responder_id", "user_id", name="uq_group_members_user"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"),
                                              index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    changed_at: Mapped[datetime]


class Invitation(Base):
    """A one-time, expiring ``t.me/<bot>?start=inv_<token>`` link bound to a role and a region.
    Only a hash of the token is kept: the link itself exists only in the admin's chat."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(8))  # officer | admin
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    created_by: Mapped[int] = mapped_column(BigInteger)  # the admin's Telegram user id
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(BigInteger)
