"""A reporter's personal data, in one place (UU PDP 27/2022).

Everything that says who a reporter is, or what they told, is named here: which columns of a case
hold it, which case events carry their words, which outbox rows are addressed to them or carry
their data to an officer, and what stays of a case once that is erased (the anonymous figures
SIMFONI-PPA counts). Withdrawal of consent (``/tarik_persetujuan``) and retention
(``privacy.retention_days_after_close``) erase through ``erase_case_content``; what the reporter
sees with ``/dataku`` is read from the same columns.

Outbox rows: a row *addressed to* a reporter, or *about* one (carrying their story, phone, files or
words to an officer), is written with ``reporter_id`` set (``enqueue(..., reporter_id=)``: the
reporter's row id, or ``case.reporter_id`` for a row about their case; the kinds are
``TO_REPORTER_KINDS`` and ``ABOUT_REPORTER_KINDS`` below). Withdrawal deletes every such row,
pending or sent (``outbox_of_reporter``), in the transaction that deletes the reporter; the
column's ``ON DELETE CASCADE`` removes any row another transaction added meanwhile. Group alerts,
reminders and admin notices carry only the anonymous fields below and have no ``reporter_id``: they
stay, so that the victim is still protected.

Telegram-free.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, String, cast, delete, literal, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.alerts import DETAIL, REPORTER_ACK
from bot.services.evidence import DOWNLOAD_KIND, forget_files
from bot.services.relay import (
    CORRECTION_KIND,
    READ_RECEIPT,
    STATUS_NEWS,
    TO_HANDLER_KIND,
    TO_REPORTER_KIND,
)
from bot.services.to_reporter import REVEAL_HIDE
from models import Case, CaseEvent, Evidence, OutboxMessage, RelayMessage, SealedMessage
from models.relay import TO_REPORTER

DRAFT_EXPIRED = "draft_expired"

# Outbox kinds addressed to the reporter. Discreet mode, "do not contact me" and the safe contact
# time concern exactly these (``bot/services/to_reporter.py``), and the edit that covers an opened
# message again.
TO_REPORTER_KINDS = frozenset({REPORTER_ACK, TO_REPORTER_KIND, STATUS_NEWS, READ_RECEIPT,
                               DRAFT_EXPIRED, REVEAL_HIDE})
# Outbox kinds that carry the reporter's data or words to an officer.
ABOUT_REPORTER_KINDS = frozenset({DETAIL, TO_HANDLER_KIND, CORRECTION_KIND})
# Outbox jobs that fetch the reporter's files (``bot/services/evidence.py``): a pending one is
# dropped with the files.
ERASED_JOB_KINDS = frozenset({DOWNLOAD_KIND})

# Case events whose ``secret`` is words exchanged with the reporter (their messages, officers'
# replies, correction requests). Officers' own notes are their record of the work and stay.
REPORTER_WORDS_EVENTS = ("relay_in", "relay_out", "correction")

# What the reporter told that identifies them or the place: erased.
ERASED_FIELDS = ("narrative", "landmark", "location", "phone", "contact_time")
# What stays of a case: the anonymous figures of SIMFONI-PPA, and the case's place in the
# district's register (reference, status, dates, tier, who handled it).
KEPT_FIELDS = ("reporter_role", "victim_category", "victim_sex", "victim_age", "victim_age_band",
               "victim_count", "violence_types", "kecamatan_code", "village_code", "place",
               "occurred", "perpetrator")

WITHDRAWN = "consent_withdrawn"  # the case event written when the reporter withdraws
RETENTION = "retention"  # ... when the retention period erases a closed case


def outbox_of_reporter(reporter_id: int) -> ColumnElement[bool]:
    """The outbox rows addressed to this reporter or carrying their data."""
    return OutboxMessage.reporter_id == reporter_id


async def erase_case_content(session: AsyncSession, case_ids: list[int], now: datetime,
                             why: str) -> None:
    """Delete what the reporter told and everything linking the cases to them; keep the anonymous
    figures. In the caller's transaction (the cases should be locked by it)."""
    if not case_ids:
        return
    values: dict[str, object] = {
        "narrative": None, "landmark": None, "location": None, "phone": None,
        "contact_time": None,
        "contact_allowed": False, "reporter_id": None, "erased_at": now, "updated_at": now,
        # The submit key began with the reporter's row id: now it names only the case.
        "submit_key": literal("erased:", String) + cast(Case.id, String)}
    if why == WITHDRAWN:
        values["consent_withdrawn"] = True
    await session.execute(update(Case).where(Case.id.in_(case_ids)).values(values)
                          .execution_options(synchronize_session=False))
    # The files the bot kept (the evidence folder) are deleted once this transaction commits.
    await forget_files(session, case_ids)
    await session.execute(delete(Evidence).where(Evidence.case_id.in_(case_ids)))
    await session.execute(
        update(CaseEvent).where(CaseEvent.case_id.in_(case_ids),
                                CaseEvent.kind.in_(REPORTER_WORDS_EVENTS),
                                CaseEvent.secret.is_not(None))
        .values(secret=None).execution_options(synchronize_session=False))
    # The reporter's side of the relay: message ids in their chat.
    await session.execute(delete(RelayMessage).where(RelayMessage.case_id.in_(case_ids),
                                                     RelayMessage.side == TO_REPORTER))
    await session.execute(delete(OutboxMessage).where(
        OutboxMessage.case_id.in_(case_ids),
        OutboxMessage.kind.in_(TO_REPORTER_KINDS | ABOUT_REPORTER_KINDS | ERASED_JOB_KINDS)))
    # What waited behind a "Buka" on their phone: a later press finds nothing.
    await session.execute(delete(SealedMessage).where(SealedMessage.case_id.in_(case_ids)))
    for case_id in case_ids:
        session.add(CaseEvent(case_id=case_id, at=now,
                              actor="reporter" if why == WITHDRAWN else "system", kind=why,
                              detail={"erased": list(ERASED_FIELDS)}))
