"""Evidence kept (issue 13, point 5): every file of a report is downloaded, encrypted at rest with
its SHA-256 taken at receipt; a file too big for the Bot API is flagged; a failed download is
retried and never holds up the report; ``/bukti REF`` hands an officer of the area a zip with a
manifest, recorded in the history, and nobody else anything; withdrawal deletes the files."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from typing import Any

from sqlalchemy import select

from bot.callback_data import PrivacyPress
from bot.domain import form
from bot.jobs import forget_closed_cases
from bot.services.evidence import evidence_folder
from models import Case, Evidence, OutboxMessage
from tests.case_work import (
    STORY,
    case_row,
    events,
    heard,
    kecamatan_officer,
    press,
    village_member,
)
from tests.harness import Harness, Person, reference_in
from tests.responder_people import register_officer
from tests.telegram_chats import StoredFile

PHOTO = b"\xff\xd8\xff\xe0 a photo of the bruises " + bytes(range(256)) * 40
VOICE = b"OggS a voice note: " + b"tolong " * 500
TANAH_GROGOT = "64.01.04"
MB = 1024 * 1024


async def reports_with_files(bot: Harness, reporter: Person,
                             files: tuple[tuple[str, str, bytes], ...] = (
                                 ("photo", "PHOTO-BRUISES", PHOTO),
                                 ("voice", "VOICE-NOTE-1", VOICE))) -> str:
    """A report from Modang whose story comes with these files (kind, file id, content)."""
    await reporter.reaches(form.STORY)
    await reporter.sends(STORY)
    for kind, file_id, content in files:
        bot.telegram.chats.put_file(file_id, content, kind=kind)
        if kind == "photo":
            await reporter.sends_photo(file_id=file_id, size=len(content))
        elif kind == "voice":
            await reporter.sends_voice(file_id=file_id, size=len(content))
        else:
            await reporter.sends_video(file_id=file_id, size=len(content))
    await reporter.finishes_story()
    await reporter.reaches(form.REVIEW)
    await reporter.picks("", "submit")
    return reference_in(reporter.last_text())


async def downloads(bot: Harness) -> None:
    await bot.runtime.downloads.drain()


async def kept(bot: Harness, reference: str) -> list[Evidence]:
    case = await case_row(bot, reference)
    return await bot.evidence(case)


def sent_zips(bot: Harness, person: Person) -> list[tuple[dict[str, Any], zipfile.ZipFile]]:
    found = []
    for call in bot.telegram.calls_to("sendDocument"):
        if int(call.params["chat_id"]) != person.user_id or call.error:
            continue
        _name, content, *_rest = call.files["document"]
        found.append((call.params, zipfile.ZipFile(io.BytesIO(content))))
    return found


# ---- kept at receipt -----------------------------------------------------------------------------

async def test_the_files_of_a_report_are_downloaded_encrypted_and_hashed(
        bot: Harness, reporter: Person) -> None:
    reference = await reports_with_files(bot, reporter)
    # The reporter has their reference before any file is fetched.
    assert reference and bot.telegram.calls_to("getFile") == []

    await downloads(bot)

    rows = await kept(bot, reference)
    assert [(r.kind, r.sha256) for r in rows] == [
        ("photo", hashlib.sha256(PHOTO).hexdigest()), ("voice", hashlib.sha256(VOICE).hexdigest())]
    folder = evidence_folder(bot.settings)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for row, plain in zip(rows, (PHOTO, VOICE), strict=True):
        assert row.stored is not None and row.downloaded_at is not None
        assert row.stored_size == len(plain) and not row.too_big
        on_disk = (folder / row.stored).read_bytes()
        assert plain not in on_disk and plain[:64] not in on_disk  # not the plaintext
        assert stat.S_IMODE((folder / row.stored).stat().st_mode) == 0o600
        assert row.file_key is not None and row.file_key.encode() not in on_disk
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no leftovers
    # Through PTB's own download path: getFile, then the file's URL.
    assert len(bot.telegram.calls_to("getFile")) == 2 and len(bot.telegram.calls_to("file")) == 2
    # Done once: running the jobs again fetches nothing.
    await downloads(bot)
    assert len(bot.telegram.calls_to("getFile")) == 2


async def test_the_file_key_is_encrypted_at_rest(bot: Harness, reporter: Person,
                                                 db_path: Any) -> None:
    reference = await reports_with_files(bot, reporter)
    await downloads(bot)
    (row, _voice) = await kept(bot, reference)
    raw = db_path.read_bytes() + db_path.with_name(db_path.name + "-wal").read_bytes()
    assert row.file_key is not None and row.file_key.encode() not in raw


async def test_a_file_reported_too_big_is_kept_as_its_id_and_flagged_on_the_card(
        bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.STORY)
    await reporter.sends(STORY)
    await reporter.sends_video(file_id="VIDEO-HUGE-1", size=25 * MB)
    await reporter.finishes_story()
    await reporter.reaches(form.REVIEW)
    await reporter.picks("", "submit")
    reference = reference_in(reporter.last_text())
    await downloads(bot)

    (row,) = await kept(bot, reference)
    assert row.too_big and row.stored is None and row.file_id == "VIDEO-HUGE-1"
    assert bot.telegram.calls_to("getFile") == []  # Telegram said its size: not even asked
    officer = await kecamatan_officer(bot)
    await officer.sends(f"/kasus {reference}")
    assert "1 file terlalu besar untuk diunduh bot" in officer.last_text()


async def test_telegram_refusing_a_big_file_flags_it(bot: Harness, reporter: Person) -> None:
    reference = await reports_with_files(bot, reporter, (("photo", "PHOTO-A", PHOTO),))
    # A document whose size the message did not say, over the Bot API's 20 MB.
    async with bot.runtime.sessions.begin() as session:
        case = await session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        document = Evidence(case_id=case.id, kind="document", file_id="DOC-BIG",
                            file_unique_id="udbig", size=None, created_at=bot.clock.now())
        session.add(document)
        await bot.runtime.evidence.added(session, document, bot.clock.now())
    bot.telegram.chats.files["DOC-BIG"] = StoredFile("DOC-BIG", "document", 21 * MB)

    await downloads(bot)

    photo, document = await kept(bot, reference)
    assert photo.stored is not None and not photo.too_big
    assert document.too_big and document.stored is None
    assert "Bad Request: file is too big" in [c.error for c in bot.telegram.refused("getFile")]


async def test_a_failed_download_is_retried_and_the_report_is_unaffected(
        bot: Harness, reporter: Person, clock: Any) -> None:
    bot.telegram.inject("5xx", method="getFile")
    bot.telegram.inject("timeout", method="file")
    reference = await reports_with_files(bot, reporter, (("photo", "PHOTO-A", PHOTO),))
    assert reference in reporter.last_text()

    await downloads(bot)  # Telegram fails: kept for later
    (row,) = await kept(bot, reference)
    assert row.stored is None
    clock.advance(seconds=2)
    await downloads(bot)  # the file itself times out
    assert (await kept(bot, reference))[0].stored is None
    clock.advance(seconds=5)
    await downloads(bot)

    (row,) = await kept(bot, reference)
    assert row.stored is not None and row.sha256 == hashlib.sha256(PHOTO).hexdigest()
    async with bot.runtime.sessions() as session:
        job = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "evidence_download"))
        assert job is not None and job.status == "sent" and job.attempts == 3
    assert bot.runtime.metrics["errors"] == 0


async def test_a_crash_before_the_job_is_marked_loses_nothing(
        bot: Harness, reporter: Person) -> None:
    reference = await reports_with_files(bot, reporter, (("photo", "PHOTO-A", PHOTO),))
    await bot.restart()  # nothing was downloaded yet: the job waits in the database
    await downloads(bot)
    (row,) = await kept(bot, reference)
    assert row.sha256 == hashlib.sha256(PHOTO).hexdigest()


# ---- /bukti ------------------------------------------------------------------------------------

async def test_bukti_gives_an_officer_the_files_with_a_manifest_recorded_in_the_history(
        bot: Harness, reporter: Person) -> None:
    reference = await reports_with_files(bot, reporter)
    await downloads(bot)
    officer = await kecamatan_officer(bot)

    await officer.sends(f"/bukti {reference}")

    ((params, archive),) = sent_zips(bot, officer)
    assert params["protect_content"] is True
    assert archive.namelist() == ["MANIFEST.txt", "01-photo.jpg", "02-voice.oga"]
    assert archive.read("01-photo.jpg") == PHOTO and archive.read("02-voice.oga") == VOICE
    manifest = archive.read("MANIFEST.txt").decode()
    assert reference in manifest and "Bu Rina Kuaro" in manifest
    for plain in (PHOTO, VOICE):
        assert hashlib.sha256(plain).hexdigest() in manifest
    assert manifest.count("OK (SHA-256 checked again: same)") == 2
    assert f"Bukti laporan {reference}: 2 file" in officer.last_message().params["caption"]
    (recorded,) = await events(bot, reference, "evidence_exported")
    assert recorded.actor_name == "Bu Rina Kuaro" and recorded.detail["files"] == 2


async def test_a_file_that_changed_on_disk_is_named_in_the_manifest(
        bot: Harness, reporter: Person) -> None:
    reference = await reports_with_files(bot, reporter)
    await downloads(bot)
    photo, voice = await kept(bot, reference)
    async with bot.runtime.sessions.begin() as session:  # the hash taken at receipt differs
        row = await session.get(Evidence, photo.id)
        assert row is not None
        row.sha256 = "0" * 64
    folder = evidence_folder(bot.settings)
    assert voice.stored is not None
    damaged = bytearray((folder / voice.stored).read_bytes())
    damaged[-1] ^= 1
    (folder / voice.stored).write_bytes(bytes(damaged))
    officer = await kecamatan_officer(bot)

    await officer.sends(f"/bukti {reference}")

    ((_params, archive),) = sent_zips(bot, officer)
    manifest = archive.read("MANIFEST.txt").decode()
    assert "01-photo.jpg" in manifest and "HASH MISMATCH" in manifest
    assert "UNREADABLE" in manifest and "02-voice.oga" not in archive.namelist()
    assert "2 file tidak lagi cocok" in officer.last_message().params["caption"]


async def test_bukti_is_refused_to_anyone_but_the_officers_of_the_area(
        bot: Harness, reporter: Person) -> None:
    reference = await reports_with_files(bot, reporter)
    await downloads(bot)
    outsiders = [
        await village_member(bot),
        await register_officer(bot, 7_700_555, TANAH_GROGOT, "Pak Dedi Grogot"),
        Person(bot, user_id=9_999_001, first_name="Joko", language_code="id"),
        reporter,
    ]
    for person in outsiders:
        await person.sends(f"/bukti {reference}")
        assert sent_zips(bot, person) == []
        assert STORY not in heard(bot, person) or person is reporter
        assert "PHOTO" not in person.last_text()
    assert len(await events(bot, reference, "refused")) == len(outsiders)
    assert await events(bot, reference, "evidence_exported") == []


async def test_a_file_too_big_is_listed_but_not_packed(bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.STORY)
    await reporter.sends(STORY)
    bot.telegram.chats.put_file("PHOTO-A", PHOTO, kind="photo")
    await reporter.sends_photo(file_id="PHOTO-A", size=len(PHOTO))
    await reporter.sends_video(file_id="VIDEO-HUGE", size=30 * MB)
    await reporter.finishes_story()
    await reporter.reaches(form.REVIEW)
    await reporter.picks("", "submit")
    reference = reference_in(reporter.last_text())
    await downloads(bot)
    officer = await kecamatan_officer(bot)

    await officer.sends(f"/bukti {reference}")

    ((_params, archive),) = sent_zips(bot, officer)
    assert archive.namelist() == ["MANIFEST.txt", "01-photo.jpg"]
    assert "02-video.mp4 | video | 31457280 | - " in archive.read("MANIFEST.txt").decode()
    assert "NOT INCLUDED: larger than the Bot API" in archive.read("MANIFEST.txt").decode()


# ---- erasure -----------------------------------------------------------------------------------

async def test_withdrawal_deletes_the_files(bot: Harness, reporter: Person) -> None:
    reference = await reports_with_files(bot, reporter)
    await downloads(bot)
    folder = evidence_folder(bot.settings)
    assert len(list(folder.iterdir())) == 2

    await reporter.sends("/tarik_persetujuan")
    await press(reporter, PrivacyPress("withdraw").pack(), reporter.last_message())

    assert list(folder.iterdir()) == []
    assert await kept(bot, reference) == []


async def test_a_withdrawal_before_the_download_leaves_no_file(
        bot: Harness, reporter: Person) -> None:
    reference = await reports_with_files(bot, reporter)
    await reporter.sends("/tarik_persetujuan")
    await press(reporter, PrivacyPress("withdraw").pack(), reporter.last_message())
    await downloads(bot)

    folder = evidence_folder(bot.settings)
    assert not folder.exists() or list(folder.iterdir()) == []
    assert bot.telegram.calls_to("getFile") == []
    assert await kept(bot, reference) == []


async def test_retention_deletes_the_files(bot: Harness, reporter: Person, clock: Any) -> None:
    reference = await reports_with_files(bot, reporter)
    await downloads(bot)
    async with bot.runtime.sessions.begin() as session:
        case = await session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        case.status, case.closed_at = "selesai", clock.now()
    clock.advance(days=bot.settings.privacy.retention_days_after_close + 1)

    assert await forget_closed_cases(bot.runtime) == 1

    assert list(evidence_folder(bot.settings).iterdir()) == []
