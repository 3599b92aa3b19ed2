"""Services and referrals (DESIGN §5): a case holds any number of services, each with its provider,
dates, status and the survivor's consent; consent is asked through the bot when the reporter may
be contacted, else recorded by the officer with how it was obtained; mediation is never offered
for sexual violence (UU TPKS Pasal 23); the provider directory is the district's, edited by its
admins. Everything through the real Application, as each person sees it."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.callback_data import BadCallback, ConsentPress, ServicePress, parse
from bot.domain import services as rules
from bot.domain.workflow import DITERIMA, PENDAMPINGAN, SELESAI
from models import CaseServiceRecord, OutboxMessage, Provider
from tests.case_work import (
    case_command,
    case_row,
    events,
    heard,
    kecamatan_officer,
    popups,
    press,
    presses_case,
    report_from_modang,
    seeded_case,
    village_member,
)
from tests.harness import Harness, Person
from tests.responder_people import register_officer
from tests.telegram_double import ChatMessage


def service_button(person: Person, action: str, value: str | None = None,
                   label: str | None = None) -> tuple[ChatMessage, str]:
    """The services button with this action (and value, or label) in the newest message with
    buttons."""
    message = person.last_with_buttons()
    for button in message.buttons():
        try:
            pressed = parse(button.get("callback_data"))
        except BadCallback:
            continue
        if isinstance(pressed, ServicePress) and pressed.action == action \
                and (value is None or pressed.value == value) \
                and (label is None or label in button["text"]):
            return message, button["callback_data"]
    raise AssertionError(f"no {action}:{value} services button in {person.first_name}'s chat")


def has_service_button(person: Person, action: str, value: str | None = None) -> bool:
    try:
        service_button(person, action, value)
    except AssertionError:
        return False
    return True


async def presses_service(person: Person, action: str, value: str | None = None,
                          label: str | None = None) -> None:
    message, data = service_button(person, action, value, label)
    await press(person, data, message)


async def services_of(bot: Harness, reference: str) -> list[CaseServiceRecord]:
    case = await case_row(bot, reference)
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(CaseServiceRecord).where(
            CaseServiceRecord.case_id == case.id).order_by(CaseServiceRecord.number)))


async def handled_report(bot: Harness, reporter: Person, officer: Person, *,
                         contact: bool = True,
                         types: tuple[str, ...] = ("fisik",)) -> str:
    """A report through the bot, taken by the officer; their card open."""
    reference = await report_from_modang(reporter, contact=contact, types=types)
    await bot.deliver_outbox()
    await officer.sends(case_command(reference))
    await presses_case(officer, "take")
    await bot.deliver_outbox()
    await officer.sends(case_command(reference))
    return reference


# ---- several services on one case ---------------------------------------------------------------

async def test_an_officer_records_parallel_services_from_the_card_each_in_the_history(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await handled_report(bot, reporter, officer)
    assert "Layanan" in " ".join(officer.last_with_buttons().button_texts())

    # Health care at a puskesmas from the directory...
    await presses_service(officer, "list")
    assert "Belum ada layanan" in officer.last_text()
    await presses_service(officer, "kinds")
    await presses_service(officer, "add", "kesehatan")
    assert "Puskesmas Tanah Grogot" in " ".join(officer.last_with_buttons().button_texts())
    await presses_service(officer, "prov", label="Puskesmas Tanah Grogot")
    # ... legal aid from UPTD PPA, and a shelter whose provider she types.
    await presses_service(officer, "kinds")
    await presses_service(officer, "add", "bantuan_hukum")
    await presses_service(officer, "prov", label="UPTD PPA Kabupaten Paser")
    await presses_service(officer, "kinds")
    await presses_service(officer, "add", "penampungan_sementara")
    await presses_service(officer, "type", "penampungan_sementara")
    assert "Tulis nama lembaga" in officer.last_text()
    await officer.sends("Rumah Aman Dinas Sosial")
    assert "Rumah Aman Dinas Sosial" in officer.texts_since(-2)

    services = await services_of(bot, reference)
    assert [(s.number, s.kind, s.provider_name, s.status) for s in services] == [
        (1, "kesehatan", "Puskesmas Tanah Grogot", rules.PLANNED),
        (2, "bantuan_hukum", "UPTD PPA Kabupaten Paser", rules.PLANNED),
        (3, "penampungan_sementara", "Rumah Aman Dinas Sosial", rules.PLANNED)]
    assert all(s.follow_up_at is not None for s in services)

    # The shelter runs: the card shows it as a stage; its start date is set.
    await presses_service(officer, "show")
    await officer.sends(case_command(reference))
    await presses_service(officer, "list")
    message, data = service_button(officer, "show", label="3.")
    await press(officer, data, message)
    await presses_service(officer, "move", rules.RUNNING)
    assert any("sekarang berjalan" in p for p in popups(bot))
    shelter = (await services_of(bot, reference))[2]
    assert shelter.status == rules.RUNNING and shelter.started_on is not None
    await officer.sends(case_command(reference))
    card = officer.last_text()
    assert "Tahap: penampungan sementara (Rumah Aman Dinas Sosial)" in card
    assert "Layanan: 3, 3 berjalan" in card

    # It ends: an end date, and the card no longer shows the stage.
    await presses_service(officer, "list")
    message, data = service_button(officer, "show", label="3.")
    await press(officer, data, message)
    await presses_service(officer, "move", rules.DONE)
    shelter = (await services_of(bot, reference))[2]
    assert shelter.status == rules.DONE and shelter.ended_on is not None
    await officer.sends(case_command(reference))
    assert "penampungan sementara" not in officer.last_text()

    await officer.sends(f"/riwayat {reference}")
    history = officer.last_text()
    for expected in ("menambah layanan 1: Kesehatan, Puskesmas Tanah Grogot",
                     "menambah layanan 3: Penampungan sementara, Rumah Aman Dinas Sosial",
                     "layanan 3 (Penampungan sementara) sekarang berjalan",
                     "layanan 3 (Penampungan sementara) sekarang selesai"):
        assert expected in history, expected
    assert bot.runtime.metrics["errors"] == 0


async def test_a_village_member_reads_the_services_but_cannot_change_them(
        bot: Harness, reporter: Person) -> None:
    member = await village_member(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now(), handler_user_id=7_700_001,
                             handler_name="Bu Rina Kuaro")
    await member.sends(case_command(case.reference))
    await presses_service(member, "list")
    assert not has_service_button(member, "kinds")
    await press(member, ServicePress(case.public_id, "prov", "kesehatan:0").pack())
    assert await services_of(bot, case.reference) == []
    refused = await events(bot, case.reference, "refused")
    assert [e.detail["action"] for e in refused] == ["services"]


# ---- consent ------------------------------------------------------------------------------------

async def test_consent_is_asked_through_the_bot_and_the_answer_is_recorded(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await handled_report(bot, reporter, officer)
    await presses_service(officer, "list")
    await presses_service(officer, "kinds")
    await presses_service(officer, "add", "kesehatan")
    await presses_service(officer, "prov", label="Puskesmas Tanah Grogot")
    await presses_service(officer, "show")
    await presses_service(officer, "ask")
    assert any("dikirim ke pelapor secara rahasia" in p for p in popups(bot))
    assert (await services_of(bot, reference))[0].consent == rules.ASKED

    # The reporter's phone shows only a neutral cover; opened, the question and two buttons.
    await bot.deliver_outbox()
    cover = reporter.last_message()
    assert "Puskesmas" not in cover.text and "report" not in cover.text.lower()
    question = await reporter.opens(cover)
    assert reference in question.text and "Health care" in question.text
    assert "Puskesmas Tanah Grogot" in question.text
    consent = [b["callback_data"] for b in question.buttons()
               if isinstance(parse(b["callback_data"]), ConsentPress)]
    assert len(consent) == 2
    await reporter.presses("Agree")
    assert "Your answer was recorded: you agree" in reporter.inbox()[-1].text \
        or any("you agree" in p for p in reporter.callback_answers())

    service = (await services_of(bot, reference))[0]
    assert (service.consent, service.consent_via) == (rules.YES, rules.RELAY)
    assert service.consent_at == bot.clock.now()
    # The officer who handles the case hears the answer; the history keeps it.
    await bot.deliver_outbox()
    assert f"Laporan {reference}: pelapor setuju dengan layanan Kesehatan" in \
        officer.last_text()
    recorded = await events(bot, reference, "service_consent")
    assert recorded[-1].actor == "reporter" and recorded[-1].detail["consent"] == rules.YES

    # A second press changes nothing; someone else's press learns nothing.
    await reporter.presses_data(consent[1], question)  # "No", pressed again later
    assert (await services_of(bot, reference))[0].consent == rules.YES
    stranger = Person(bot, user_id=5_559_999, first_name="Orang")
    await stranger.presses_data(ConsentPress(service.id, False).pack(), question)
    assert (await services_of(bot, reference))[0].consent == rules.YES
    assert popups(bot)[-1] == "Pesan ini sudah tidak tersedia.", popups(bot)[-3:]


async def test_a_reporter_who_asked_not_to_be_contacted_is_never_asked(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await handled_report(bot, reporter, officer, contact=False)
    await presses_service(officer, "list")
    await presses_service(officer, "kinds")
    await presses_service(officer, "add", "bantuan_hukum")
    await presses_service(officer, "prov", label="UPTD PPA Kabupaten Paser")
    await presses_service(officer, "show")
    assert not has_service_button(officer, "ask")  # the relay is not offered
    assert "tidak bisa ditanya lewat bot" in officer.last_text()
    before = len(reporter.inbox())

    # A forged "ask" is refused with the reason, and nothing is queued for the reporter.
    case = await case_row(bot, reference)
    await press(officer, ServicePress(case.public_id, "ask", "", 1).pack())
    assert any("tidak ingin dihubungi" in p or "tidak dihubungi" in p.lower()
               for p in popups(bot)) or "dihubungi" in heard(bot, officer)
    await bot.deliver_outbox()
    assert len(reporter.inbox()) == before
    async with bot.runtime.sessions() as session:
        asked = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == "consent_ask"))
    assert asked == 0
    assert (await services_of(bot, reference))[0].consent is None

    # The officer records what the survivor said on the phone.
    await presses_service(officer, "consent", "y")
    assert "Bagaimana jawaban korban didapat?" in officer.last_text()
    await presses_service(officer, "via", "y.telepon")
    service = (await services_of(bot, reference))[0]
    assert (service.consent, service.consent_via) == (rules.YES, rules.PHONE)
    assert "korban setuju (lewat telepon)" in officer.last_text()
    await officer.sends(f"/riwayat {reference}")
    assert "mencatat persetujuan untuk Bantuan hukum (lewat telepon)" in officer.last_text()


# ---- mediation (UU TPKS Pasal 23) ---------------------------------------------------------------

async def test_mediation_is_never_offered_for_sexual_violence_and_refused_with_the_reason(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    sexual = await seeded_case(bot, reporter=reporter, status=PENDAMPINGAN, types=("seksual",),
                               acknowledged_at=bot.clock.now(), handler_user_id=officer.user_id,
                               handler_name="Bu Rina Kuaro")
    other = await seeded_case(bot, reporter=reporter, status=PENDAMPINGAN, types=("fisik",),
                              acknowledged_at=bot.clock.now(), handler_user_id=officer.user_id,
                              handler_name="Bu Rina Kuaro")
    await officer.sends(case_command(other.reference))
    await presses_service(officer, "list")
    await presses_service(officer, "kinds")
    assert has_service_button(officer, "add", rules.MEDIATION)  # offered for physical violence

    await officer.sends(case_command(sexual.reference))
    await presses_service(officer, "list")
    await presses_service(officer, "kinds")
    assert not has_service_button(officer, "add", rules.MEDIATION)
    assert "Mediasi tidak ditawarkan" in officer.last_text() and "Pasal 23" in officer.last_text()

    # A forged or old button: refused with the reason, recorded, nothing added.
    await press(officer, ServicePress(sexual.public_id, "prov", "mediasi:0").pack())
    await press(officer, ServicePress(sexual.public_id, "add", "mediasi").pack())
    refusals = [p for p in popups(bot) if "Mediasi tidak bisa" in p]
    assert len(refusals) == 2 and all("UU TPKS (Pasal 23)" in p for p in refusals)
    assert await services_of(bot, sexual.reference) == []
    refused = await events(bot, sexual.reference, "service_refused")
    assert [e.detail["reason"] for e in refused] == [rules.NO_MEDIATION_TPKS] * 2
    assert rules.check_new(rules.MEDIATION, ["seksual", "fisik"]) is not None
    assert rules.check_new(rules.MEDIATION, ["fisik"]) is None


async def test_a_police_referral_as_a_service_lets_a_sexual_violence_case_be_completed(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter, status=PENDAMPINGAN, types=("seksual",),
                             acknowledged_at=bot.clock.now(), handler_user_id=officer.user_id,
                             handler_name="Bu Rina Kuaro")
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "set", SELESAI)
    assert "UU TPKS" in heard(bot, officer)
    await officer.sends(case_command(case.reference))
    await presses_service(officer, "list")
    await presses_service(officer, "kinds")
    await presses_service(officer, "add", "penegakan_hukum")
    await presses_service(officer, "prov", label="Polres Paser")
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "set", SELESAI)
    assert (await case_row(bot, case.reference)).status == SELESAI


# ---- the provider directory ---------------------------------------------------------------------

async def test_the_directory_is_seeded_from_the_shipped_file_and_edited_by_admins(
        bot: Harness, reporter: Person) -> None:
    async with bot.runtime.sessions() as session:
        shipped = list(await session.scalars(select(Provider).order_by(Provider.id)))
    assert len(shipped) == 13 and {p.source for p in shipped} == {"shipped"}
    await bot.restart()  # not seeded twice
    async with bot.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Provider)) == 13

    admin = await register_officer(bot, 7_100_001, "64.01", "Pak Admin", admin=True)
    officer = await kecamatan_officer(bot)
    await officer.sends("/layanan")
    assert "untuk admin kabupaten" in officer.last_text()

    await admin.sends("/layanan tambah kesehatan | Puskesmas Kuaro | Kuaro")
    assert "Tersimpan" in admin.last_text() and "Puskesmas Kuaro" in admin.last_text()
    await admin.sends("/layanan tambah obat | Toko | Kuaro")
    assert "Tidak bisa disimpan" in admin.last_text()
    await admin.sends("/layanan")
    await admin.presses("Kesehatan")
    assert "Puskesmas Kuaro" in admin.last_text()
    tanah_grogot = next(p for p in shipped if p.name == "Puskesmas Tanah Grogot")
    await admin.presses(f"Nonaktifkan #{tanah_grogot.id}")
    assert "nonaktif" in admin.last_text()

    # Officers are offered what is active, the new one included.
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now(), handler_user_id=officer.user_id,
                             handler_name="Bu Rina Kuaro")
    await officer.sends(case_command(case.reference))
    await presses_service(officer, "list")
    await presses_service(officer, "kinds")
    await presses_service(officer, "add", "kesehatan")
    offered = " ".join(officer.last_with_buttons().button_texts())
    assert "Puskesmas Kuaro" in offered and "Puskesmas Tanah Grogot" not in offered
