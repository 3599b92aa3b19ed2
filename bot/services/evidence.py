"""Evidence kept: every file of a report downloaded, encrypted at rest, hashed, and handed over.

A photo, voice note, video or document that comes with a report, or that the reporter sends
later about it, is stored first as Telegram's file id (``models.Evidence``). In the same
transaction a **download job** is queued in the outbox (kind ``evidence_download``): its own
sender (``Runtime.downloads``, beside the one that sends messages, so that a 20 MB file never
holds up an alert) asks the Bot API for the file (``getFile``, then the file itself through PTB's
``File.download_as_bytearray``), takes the SHA-256 of the bytes received, encrypts them with a
key of the file's own (AES-256-GCM; the key is kept in ``Evidence.file_key``, which is encrypted
at rest with the bot's data key and re-encrypted by ``ppa-bot keys rotate`` like every secret
column) and writes them to the evidence folder (``evidence.folder``) atomically: a temporary
file, flushed to disk, then renamed; folder 0700, files 0600. A failure or a timeout is retried
with the outbox's backoff; a crash before the row is marked repeats the download, which finds the
file already kept. The report never waits for any of it.

Files larger than the Bot API lets a bot download (``evidence.download_max_bytes``, 20 MB) are
kept as the file id and flagged (``Evidence.too_big``): known from the size Telegram gave with the
message, or from Telegram's own refusal ("file is too big").

``/bukti REF`` (an officer of the case's area: ``EVIDENCE`` in ``bot/domain/access.py``) packs the
decrypted files in a zip with a manifest (file name, kind, size, SHA-256, received, who exported
it and when). Each file's hash is computed again while packing; a file whose hash differs, or that
cannot be read, is named in the manifest as such. The package is recorded in the case's history.

Withdrawal of consent and retention (``bot/services/reporter_data.py``) delete the files: the rows
go in their transaction, and the files once it commits (overwritten, then unlinked). A file whose
row is gone (a crash between the two) is removed by ``sweep_orphans`` at start-up.

Telegram-free: the download itself is ``bot/outbox/downloads.py``, run by the outbox sender.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import secrets
import tempfile
import time
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.domain.access import EVIDENCE
from bot.outbox.queue import enqueue
from models import Case, CaseEvent, Evidence

log = logging.getLogger(__name__)

DOWNLOAD_KIND = "evidence_download"
DOWNLOAD_METHOD = "ppa.evidence.download"  # not a Bot API method: the outbox runs it as a job
DOWNLOAD_BUCKET = "e"
EXPORTED_EVENT = "evidence_exported"
TELEGRAM_TOO_BIG = "file is too big"
MAGIC = b"PPAEV1\n"
NONCE_BYTES = 12
# Telegram takes documents up to 50 MB from a bot: a larger package is sent in parts.
PART_BYTES = 45 * 1024 * 1024
ORPHAN_AGE_SECONDS = 3600.0
UNLINK = "evidence_unlink"  # in Session.info: stored files to delete once the transaction commits
EXTENSIONS = {"photo": ".jpg", "voice": ".ogg", "video": ".mp4", "audio": ".mp3",
              "video_note": ".mp4", "document": ".bin"}


def evidence_folder(settings: Settings) -> Path:
    """``evidence.folder``, else ``evidence/`` beside the SQLite database (or ./data/evidence)."""
    if settings.evidence.folder:
        return Path(settings.evidence.folder)
    url = make_url(settings.database.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "evidence"
    return Path("data") / "evidence"


# ---- the folder ----------------------------------------------------------------------------------

class EvidenceStore:
    """The evidence folder: encrypted files written atomically, private, removed by overwriting."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def ensure(self) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)

    def path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError("not a stored evidence name")
        return self.folder / name

    def write(self, name: str, blob: bytes) -> None:
        """Temporary file (0600) in the same folder, flushed to disk, then renamed: a crash
        leaves the whole file or none (a leftover ``.tmp`` is removed by ``sweep``)."""
        self.ensure()
        fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), 0o600)
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, self.path(name))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def shred(self, name: str) -> None:
        """Overwrite the file with zeros, flush, unlink (its key is gone with its row anyway)."""
        path = self.path(name)
        try:
            size = path.stat().st_size
            with path.open("r+b") as fh:
                left = size
                zeros = bytes(min(size, 1 << 20))
                while left > 0:
                    fh.write(zeros[:min(left, len(zeros))])
                    left -= len(zeros)
                fh.flush()
                os.fsync(fh.fileno())
            path.unlink()
        except FileNotFoundError:
            pass

    def names(self, older_than: float = 0.0) -> list[str]:
        """The files here, those last written more than ``older_than`` seconds ago."""
        if not self.folder.is_dir():
            return []
        cutoff = time.time() - older_than
        return sorted(p.name for p in self.folder.iterdir()
                      if p.is_file() and p.stat().st_mtime <= cutoff)


def seal(plain: bytes, key: bytes, evidence_id: int) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plain, _bound_to(evidence_id))


def unseal(blob: bytes, key: bytes, evidence_id: int) -> bytes:
    if not blob.startswith(MAGIC):
        raise ValueError("not an evidence file")
    nonce = blob[len(MAGIC):len(MAGIC) + NONCE_BYTES]
    return AESGCM(key).decrypt(nonce, blob[len(MAGIC) + NONCE_BYTES:], _bound_to(evidence_id))


def _bound_to(evidence_id: int) -> bytes:
    """Associated data: a file decrypts only as the evidence row it was written for."""
    return b"ppa-bot evidence " + str(evidence_id).encode()


def _hash_and_seal(plain: bytes, key: bytes, evidence_id: int) -> tuple[str, bytes]:
    return hashlib.sha256(plain).hexdigest(), seal(plain, key, evidence_id)


def _extension(kind: str, file_path: str | None) -> str:
    suffix = Path(file_path or "").suffix.lower()
    if suffix and len(suffix) <= 8 and suffix[1:].isalnum():
        return suffix
    return EXTENSIONS.get(kind, ".bin")


# ---- deleting files with their rows --------------------------------------------------------------

async def forget_files(session: AsyncSession, case_ids: list[int]) -> None:
    """The stored files of these cases are deleted once the caller's transaction commits (the
    rows go in it: ``bot/services/reporter_data.py``)."""
    names = [name for name in await session.scalars(
        select(Evidence.stored).where(Evidence.case_id.in_(case_ids),
                                      Evidence.stored.is_not(None))) if name]
    if names:
        session.sync_session.info.setdefault(UNLINK, []).extend(names)


def shred_on_commit(sessions: async_sessionmaker[AsyncSession],
                    store: Callable[[], EvidenceStore | None]) -> None:
    """Delete the files noted by ``forget_files`` after the commit of the outermost transaction
    (nothing is deleted when it rolls back)."""
    session_class = sessions.kw.get("sync_session_class") or Session

    def committed(session: Session) -> None:
        names = session.info.pop(UNLINK, None)
        found = store()
        if names and found is not None:
            for name in names:
                try:
                    found.shred(name)
                except OSError:
                    log.exception("an evidence file could not be deleted; the start-up sweep "
                                  "removes it")

    def ended(session: Session, transaction: Any) -> None:
        if transaction.parent is None and not session.in_transaction():
            session.info.pop(UNLINK, None)

    event.listen(session_class, "after_commit", committed)
    event.listen(session_class, "after_soft_rollback", ended)


class TooBig(Exception):
    """The file is larger than the Bot API lets a bot download."""


# The Bot API's side of a download: the file's bytes and Telegram's path for it.
Fetch = Callable[[str], Awaitable[tuple[bytes, str | None]]]


# ---- the service ---------------------------------------------------------------------------------

@dataclass
class Packed:
    """What ``/bukti`` hands over: one zip or several parts, to be removed once sent."""

    reference: str
    parts: list[Path]
    files: int
    mismatched: int
    flagged: int  # kept as file id only (too big), or never downloaded
    work: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    def discard(self) -> None:
        if self.work is not None:
            self.work.cleanup()


@dataclass
class ManifestLine:
    name: str
    kind: str
    size: int | None
    sha256: str | None
    received: datetime
    state: str  # "ok" | "mismatch" | "unreadable" | "too_big" | "not_downloaded"
    part: int = 1


class EvidenceService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 settings: Settings, store: EvidenceStore) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.store = store
        self.downloaded = 0

    # ---- receipt -----------------------------------------------------------------------------
    def queue(self, session: AsyncSession, evidence: Evidence, now: datetime) -> None:
        """A download job for this (flushed) evidence row, in the caller's transaction; a file
        Telegram said is over the download limit is flagged instead."""
        if (evidence.size or 0) > self.settings.evidence.download_max_bytes:
            evidence.too_big = True
            return
        enqueue(session, kind=DOWNLOAD_KIND, method=DOWNLOAD_METHOD,
                params={"evidence": evidence.id}, now=now, bucket=DOWNLOAD_BUCKET,
                case_id=evidence.case_id)

    async def on_case_created(self, session: AsyncSession, case: Case) -> None:
        """The files that came with a report: each gets its download job (not for practice)."""
        if case.practice:
            return
        rows = list(await session.scalars(select(Evidence).where(Evidence.case_id == case.id)
                                          .order_by(Evidence.id)))
        for evidence in rows:
            self.queue(session, evidence, case.created_at)

    async def added(self, session: AsyncSession, evidence: Evidence, now: datetime) -> None:
        """A file the reporter sent later about their case (``RelayService``)."""
        await session.flush()
        self.queue(session, evidence, now)

    # ---- the download job (run by the outbox's download sender) -----------------------------
    async def download(self, fetch: Fetch, params: dict[str, Any]) -> dict[str, Any]:
        """Fetch the file of one evidence row (``fetch``: ``bot/outbox/downloads.py``), hash it,
        encrypt it, write it, and record it; a file over the download limit is flagged."""
        evidence_id = int(params["evidence"])
        async with self.sessions() as session:
            row = await session.get(Evidence, evidence_id)
            if row is None or row.stored is not None or row.too_big:
                return {"done": "nothing to do"}  # erased meanwhile, or already kept
            file_id, kind = row.file_id, row.kind
        try:
            data, file_path = await fetch(file_id)
        except TooBig:
            await self._flag_too_big(evidence_id)
            return {"done": "too big"}
        key = AESGCM.generate_key(bit_length=256)
        name = secrets.token_hex(16) + ".enc"
        digest, blob = await asyncio.to_thread(_hash_and_seal, data, key, evidence_id)
        size = len(data)
        del data
        await asyncio.to_thread(self.store.write, name, blob)
        del blob
        now = self.clock.now()
        async with self.sessions.begin() as session:
            row = await session.get(Evidence, evidence_id, with_for_update=True,
                                    populate_existing=True)
            if row is None or row.stored is not None:
                # Erased while it was downloaded (a withdrawal), or kept by an earlier run.
                await asyncio.to_thread(self.store.shred, name)
                return {"done": "dropped"}
            row.stored = name
            row.file_key = base64.urlsafe_b64encode(key).decode("ascii")
            row.sha256 = digest
            row.stored_size = size
            row.extension = _extension(kind, file_path)
            row.downloaded_at = now
        self.downloaded += 1
        return {"done": "kept", "size": size}

    async def _flag_too_big(self, evidence_id: int) -> None:
        async with self.sessions.begin() as session:
            row = await session.get(Evidence, evidence_id, with_for_update=True)
            if row is not None:
                row.too_big = True

    # ---- /bukti ------------------------------------------------------------------------------
    async def package(self, user_id: int, name: str, reference: str,
                      acting: Callable[..., Any]) -> Packed | Any:
        """The decrypted files of the case in a zip (parts of at most 45 MB) with a manifest,
        for someone ``who_is`` lets have them (``acting`` is ``CaseService.act``: the case
        opened for this person and ``EVIDENCE``, else its refusal, recorded)."""
        async def read(session: AsyncSession, case: Case, actor: Any,
                       now: datetime) -> tuple[Case, Any, list[Evidence], datetime]:
            rows = list(await session.scalars(select(Evidence).where(
                Evidence.case_id == case.id).order_by(Evidence.id)))
            return case, actor, rows, now

        opened = await acting(user_id, name, EVIDENCE, read, reference=reference)
        if not isinstance(opened, tuple):
            return opened  # the refusal
        case, actor, rows, now = opened
        local = now.astimezone(self.settings.tz)
        packed = await asyncio.to_thread(self._pack, case.reference, rows, actor.name,
                                         local.strftime("%Y-%m-%d %H:%M %Z"))
        async with self.sessions.begin() as session:
            session.add(CaseEvent(
                case_id=case.id, at=self.clock.now(), actor=actor.key,
                actor_name=actor.name or None, kind=EXPORTED_EVENT,
                detail={"files": packed.files, "mismatched": packed.mismatched,
                        "flagged": packed.flagged, "parts": len(packed.parts)}))
        return packed

    def _pack(self, reference: str, rows: list[Evidence], who: str, when: str) -> Packed:
        work = tempfile.TemporaryDirectory(prefix="ppa-bukti-")
        try:
            return self._pack_into(Path(work.name), work, reference, rows, who, when)
        except BaseException:
            work.cleanup()
            raise

    def _pack_into(self, folder: Path, work: tempfile.TemporaryDirectory[str], reference: str,
                   rows: list[Evidence], who: str, when: str) -> Packed:
        lines: list[ManifestLine] = []
        contents: list[tuple[ManifestLine, bytes]] = []
        for number, row in enumerate(rows, start=1):
            file_name = f"{number:02d}-{row.kind}{row.extension or EXTENSIONS.get(row.kind, '')}"
            if row.stored is None or row.file_key is None:
                state = "too_big" if row.too_big else "not_downloaded"
                lines.append(ManifestLine(file_name, row.kind, row.size, None, row.created_at,
                                          state))
                continue
            try:
                plain = unseal(self.store.read(row.stored),
                               base64.urlsafe_b64decode(row.file_key), row.id)
            except (OSError, ValueError, InvalidTag):
                lines.append(ManifestLine(file_name, row.kind, row.stored_size, row.sha256,
                                          row.created_at, "unreadable"))
                continue
            digest = hashlib.sha256(plain).hexdigest()
            line = ManifestLine(file_name, row.kind, len(plain), row.sha256, row.created_at,
                                "ok" if digest == row.sha256 else "mismatch")
            lines.append(line)
            contents.append((line, plain))
        # Parts of at most PART_BYTES (a single file larger than that gets a part of its own).
        parts: list[list[tuple[ManifestLine, bytes]]] = [[]]
        used = 0
        for line, plain in contents:
            if parts[-1] and used + len(plain) > PART_BYTES:
                parts.append([])
                used = 0
            parts[-1].append((line, plain))
            line.part = len(parts)
            used += len(plain)
        safe_reference = reference.replace("/", "-")
        paths: list[Path] = []
        for index, part in enumerate(parts, start=1):
            suffix = f"-{index}" if len(parts) > 1 else ""
            path = folder / f"bukti-{safe_reference}{suffix}.zip"
            with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
                archive.writestr("MANIFEST.txt", manifest(reference, lines, who, when,
                                                          index, len(parts)),
                                 compress_type=zipfile.ZIP_DEFLATED)
                for line, plain in part:
                    archive.writestr(line.name, plain)
            paths.append(path)
        return Packed(reference, paths, files=len(contents),
                      mismatched=sum(line.state in ("mismatch", "unreadable") for line in lines),
                      flagged=sum(line.state in ("too_big", "not_downloaded")
                                  for line in lines), work=work)

    # ---- housekeeping ------------------------------------------------------------------------
    async def sweep_orphans(self) -> int:
        """Files whose row is gone (a crash between an erasure's commit and the deletion of its
        files), and temporary files left by a crash while writing: removed. Only files an hour
        old: another worker may be writing one whose row it has not committed yet."""
        names = await asyncio.to_thread(self.store.names, ORPHAN_AGE_SECONDS)
        if not names:
            return 0
        async with self.sessions() as session:
            kept = set(await session.scalars(select(Evidence.stored).where(
                Evidence.stored.is_not(None))))
        removed = 0
        for name in names:
            if name not in kept:
                await asyncio.to_thread(self.store.shred, name)
                removed += 1
        return removed


STATES = {"ok": "OK (SHA-256 checked again: same)",
          "mismatch": "HASH MISMATCH: the file differs from the one received",
          "unreadable": "UNREADABLE: the stored file is missing or damaged",
          "too_big": "NOT INCLUDED: larger than the Bot API lets a bot download (20 MB); "
                     "kept as a Telegram file id",
          "not_downloaded": "NOT INCLUDED: not downloaded yet"}


def manifest(reference: str, lines: list[ManifestLine], who: str, when: str, part: int,
             parts: int) -> str:
    """The package's manifest (plain text, English and Indonesian headings)."""
    out = [f"Bukti / Evidence - {reference}",
           f"Diekspor oleh / Exported by: {who}",
           f"Waktu / At: {when}",
           f"Bagian / Part: {part} of {parts}" if parts > 1 else "",
           "",
           "file | kind | size (bytes) | SHA-256 at receipt | received (UTC) | check"]
    for line in lines:
        size = "" if line.size is None else str(line.size)
        where = f" (part {line.part})" if parts > 1 and line.state in ("ok", "mismatch") else ""
        out.append(f"{line.name} | {line.kind} | {size} | {line.sha256 or '-'} | "
                   f"{line.received:%Y-%m-%d %H:%M:%S} | {STATES[line.state]}{where}")
    return "\n".join(part_line for part_line in out if part_line is not None) + "\n"
