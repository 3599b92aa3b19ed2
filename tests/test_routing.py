"""Routing (DESIGN §4), without Telegram: which responders a new case goes to.

The table: for every combination of tiers that have an active responder for the village, and
every kind of case, the responders alerted at once and the tier that holds the case.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import combinations

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import Settings, load_settings
from bot.crypto import Vault
from bot.domain.tiers import (
    Candidate,
    ack_timeout,
    chain,
    covers,
    next_tier,
    plan,
    police_deadline,
    tier_of,
)
from bot.runtime import Runtime
from models import Alert, Case, CaseEvent, OutboxMessage
from tests.case_factory import add_cases, add_responder, new_case, wita

VILLAGE = Candidate(1, "64.01.05.2009")  # the PAPTBM group of Pondong Baru
KECAMATAN = Candidate(2, "64.01.05")  # an officer of Kuaro
KABUPATEN = Candidate(3, "64.01")  # UPTD PPA Paser
TIER_OF = {VILLAGE: "desa", KECAMATAN: "kecamatan", KABUPATEN: "kabupaten"}
EVERY_COMBINATION = [set(c) for n in range(4) for c in combinations(TIER_OF, n)]

ORDINARY = {"urgent": False, "types": ["fisik"]}
KINDS = {
    "ordinary": ORDINARY,
    "urgent": {"urgent": True, "types": ["psikis"]},
    "sexual violence": {"urgent": False, "types": ["fisik", "seksual"]},
    "trafficking": {"urgent": False, "types": ["tppo"]},
}


def expected(present: set[Candidate], kind: str) -> tuple[str | None, set[Candidate]]:
    """The rule in words: the lowest tier present; special cases also the kabupaten."""
    lowest = next((c for c in (VILLAGE, KECAMATAN, KABUPATEN) if c in present), None)
    if lowest is None:
        return None, set()
    targets = {lowest}
    if kind != "ordinary" and KABUPATEN in present:
        targets.add(KABUPATEN)
    return TIER_OF[lowest], targets


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("present", EVERY_COMBINATION,
                         ids=lambda p: "+".join(TIER_OF[c] for c in sorted(p, key=lambda c: c.id))
                         or "nobody")
def test_the_routing_table(present: set[Candidate], kind: str) -> None:
    route = plan(sorted(present, key=lambda c: c.id), **KINDS[kind])  # type: ignore[arg-type]
    tier, targets = expected(present, kind)
    assert route.tier == tier
    assert set(route.targets) == targets
    assert route.unrouted == (not present)


def test_several_responders_of_the_lowest_tier_all_get_the_case() -> None:
    second_group = Candidate(4, "64.01.05.2009")
    other_village = Candidate(5, "64.01.05.2002")
    route = plan([VILLAGE, second_group, KECAMATAN], **ORDINARY)  # type: ignore[arg-type]
    assert set(route.targets) == {VILLAGE, second_group}
    assert other_village.tier == "desa"


@pytest.mark.parametrize(("current", "available", "wanted"), [
    ("desa", ["desa", "kecamatan", "kabupaten"], "kecamatan"),
    ("desa", ["desa", "kabupaten"], "kabupaten"),  # a tier with nobody is skipped
    ("kecamatan", ["desa", "kecamatan", "kabupaten"], "kabupaten"),
    ("kabupaten", ["desa", "kecamatan", "kabupaten"], None),  # the top
    ("desa", ["desa"], None),
    (None, ["kecamatan", "kabupaten"], "kecamatan"),
])
def test_the_next_tier_up(current: str | None, available: list[str], wanted: str | None) -> None:
    assert next_tier(current, available) == wanted


def test_regions_nest_by_their_codes() -> None:
    assert chain("64.01.05.2009") == ["64.01.05.2009", "64.01.05", "64.01"]
    assert [tier_of(code) for code in chain("64.01.05.2009")] == ["desa", "kecamatan", "kabupaten"]
    assert covers("64.01.05", "64.01.05.2009") and covers("64.01", "64.01.05.2009")
    assert not covers("64.01.04", "64.01.05.2009")
    assert not covers("64.01.0", "64.01.05.2009")  # a prefix of the text is not a parent


def test_waiting_times_come_from_the_configuration_and_may_be_fractions() -> None:
    settings = load_settings(escalation={"ack_timeout_urgent_minutes": 0.25})
    assert ack_timeout(settings, "urgent") == timedelta(seconds=15)
    assert ack_timeout(settings, "high") == timedelta(hours=1)
    assert ack_timeout(settings, "normal") == timedelta(days=1)


def test_sexual_violence_and_trafficking_carry_the_police_deadline() -> None:
    settings = load_settings()
    reported = wita(2026, 3, 2, 9)
    assert police_deadline(settings, reported, ["seksual"]) == reported + timedelta(hours=72)
    assert police_deadline(settings, reported, ["tppo", "fisik"]) == reported + timedelta(hours=72)
    assert police_deadline(settings, reported, ["fisik", "psikis"]) is None


# ---- the router in the submit transaction, on a real database ------------------------------------

@pytest.fixture
async def runtime(settings: Settings, clock: FakeClock, vault: Vault) -> Runtime:
    rt = Runtime.create(settings, clock=clock, vault=vault)
    await rt.load_regions()
    yield rt  # type: ignore[misc]
    await rt.engine.dispose()


async def route(rt: Runtime, **fields: object) -> int:
    """A new case from Pondong Baru, routed as the submit hook does; returns its id."""
    (case,) = await add_cases(rt.sessions, new_case(rt.clock.now(), village="Pondong Baru",
                                                    **fields))
    async with rt.sessions.begin() as session:
        loaded = await session.get_one(Case, case.id)
        await rt.router.on_case_created(session, loaded)
    return case.id


async def test_nobody_registered_keeps_the_case_unrouted_and_logs_it_loudly(
        runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    case_id = await route(runtime)
    async with runtime.sessions() as session:
        case = await session.get_one(Case, case_id)
        events = list(await session.scalars(select(CaseEvent.kind)))
        outbox = list(await session.scalars(select(OutboxMessage)))
    assert case.unrouted and case.tier is None and case.ack_deadline is None
    assert "unrouted" in events and outbox == []
    (record,) = [r for r in caplog.records if "UNROUTED" in r.getMessage()]
    assert record.levelname == "ERROR" and case.reference in record.getMessage()


async def test_a_routed_case_has_its_alerts_and_their_messages_in_the_same_transaction(
        runtime: Runtime) -> None:
    await add_responder(runtime.sessions, kind="group", chat_id=-100501, region="64.01.05.2009")
    await add_responder(runtime.sessions, kind="group", chat_id=-100502, region="64.01")
    await add_responder(runtime.sessions, kind="officer", chat_id=501, region="64.01.05",
                        active=False)
    case_id = await route(runtime, types=("seksual",), priority="high")
    async with runtime.sessions() as session:
        alerts = list(await session.scalars(select(Alert).order_by(Alert.id)))
        messages = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        case = await session.get_one(Case, case_id)
    assert [(a.chat_id, a.tier) for a in alerts] == [(-100501, "desa"), (-100502, "kabupaten")]
    assert [(m.alert_id, m.bucket, m.status) for m in messages] == [
        (alerts[0].id, "-100501", "pending"), (alerts[1].id, "-100502", "pending")]
    assert case.tier == "desa" and not case.unrouted
    assert case.ack_deadline == runtime.clock.now() + timedelta(hours=1)
    assert case.police_deadline == case.created_at + timedelta(hours=72)
