"""The keys and the data they protect: the start-up check, and key rotation.

Start-up (``ppa-bot run``): when the database already holds encrypted data, the keys must read
it. A missing key file is never replaced by a new key (that would leave every report unreadable
and start a second, disjoint set of data); a key that cannot decrypt the **canary** (a small row
encrypted at first start, ``models/key_canary.py``), or a lookup key whose fingerprint differs
from the one stored beside it, stops the start with one line saying what to restore.

Rotation (``ppa-bot keys rotate``) replaces the Fernet key; the lookup key stays (see
``bot/crypto.py``), so reporter hashes never change and nothing can fork. It is resumable and
idempotent:

1. the key file gets the new key *in front of* the old one before any row is touched (a crash
   from here on leaves every row readable: the vault decrypts with both);
2. every encrypted value not yet readable by the new key alone is rewritten under it, a batch
   per transaction; a value already rewritten is skipped, so a run that crashed half-way (or a
   second run) continues where the first stopped, and each update is conditional on the old value
   (a value the bot changed meanwhile is left alone, it is already under the new key);
3. a last pass checks that no value still needs an old key; only then is the old key dropped
   from the key file. A rerun after a crash in step 2 or 3 finds two keys in the file and
   finishes with the same new key instead of making a third.

Two rotations at once are kept apart by a lock file beside the key file.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, Text, or_, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import (
    KeyMaterial,
    KeyMaterialError,
    Vault,
    generate_key,
    load_key_material,
    read_key_file,
    write_key_file,
)
from bot.db import database
from models import Base, KeyCanary
from models.encryption import EncryptedText, install_cipher
from models.key_canary import CANARY_ID, CANARY_TEXT

log = logging.getLogger(__name__)

BATCH = 500
Progress = Callable[[int], None]


def encrypted_columns() -> list[tuple[Table, Column[Any], list[Column[Any]]]]:
    """Every table with secret columns: (table, its primary key, the secret columns)."""
    found = []
    for table in sorted(Base.metadata.tables.values(), key=lambda t: t.name):
        secret = [c for c in table.columns if isinstance(c.type, EncryptedText)]
        if secret:
            (primary,) = table.primary_key.columns
            found.append((table, primary, secret))
    return found


def _raw(column: ColumnElement[Any]) -> ColumnElement[str]:
    """The stored token itself, not the column's decrypted value."""
    return type_coerce(column, Text)


# ---- what is stored ------------------------------------------------------------------------------

async def holds_encrypted_data(sessions: async_sessionmaker[AsyncSession]) -> bool:
    return await _sample_token(sessions) is not None


async def _sample_token(sessions: async_sessionmaker[AsyncSession]) -> str | None:
    """One stored encrypted value (the canary first), or None for a database without any."""
    async with sessions() as session:
        canary = await session.scalar(select(_raw(KeyCanary.__table__.c.sealed)))
        if canary is not None:
            return str(canary)
        for table, _primary, secret in encrypted_columns():
            for column in secret:
                token = await session.scalar(select(_raw(column)).select_from(table)
                                             .where(column.is_not(None)).limit(1))
                if token is not None:
                    return str(token)
    return None


# ---- the start-up check --------------------------------------------------------------------------

def _cannot_read(where: str) -> KeyMaterialError:
    return KeyMaterialError(
        f"the configured key cannot read this database's encrypted data: restore {where} "
        f"that belongs to this database from its backup (the bot did not start)")


async def check_canary(sessions: async_sessionmaker[AsyncSession], vault: Vault,
                       where: str) -> None:
    """Refuse keys that cannot read the data; write the canary at the first start."""
    for _attempt in range(2):
        async with sessions() as session:
            row = (await session.execute(
                select(_raw(KeyCanary.__table__.c.sealed), KeyCanary.lookup_check)
                .where(KeyCanary.id == CANARY_ID))).first()
        if row is not None:
            sealed, check = str(row[0]), str(row[1])
            try:
                readable = vault.decrypt_text(sealed) == CANARY_TEXT
            except KeyMaterialError:
                readable = False
            if not readable:
                raise _cannot_read(where)
            if check != vault.lookup_check():
                raise KeyMaterialError(
                    f"the lookup key does not match this database (reporters would not be found): "
                    f"restore the 'lookup' line of {where} from its backup, or set "
                    f"security.lookup_key to the one in use (the bot did not start)")
            return
        sample = await _sample_token(sessions)  # data from before the canary existed
        if sample is not None:
            try:
                vault.decrypt_text(sample)
            except KeyMaterialError:
                raise _cannot_read(where) from None
        try:
            async with sessions.begin() as session:
                session.add(KeyCanary(id=CANARY_ID, sealed=CANARY_TEXT,
                                      lookup_check=vault.lookup_check(),
                                      created_at=datetime.now(UTC)))
            return
        except IntegrityError:  # another worker wrote it first: check theirs
            continue


def describe_key_source(configured: str, key_file: Path) -> str:
    return "security.encryption_key" if configured.strip() else f"the key file {key_file}"


def open_checked_vault(url: str, *, configured: str, configured_lookup: str,
                       key_file: Path) -> Vault:
    """The vault ``ppa-bot run`` uses: created only for a database with no encrypted data, and
    checked against the canary otherwise. Synchronous: call it before the bot's event loop."""
    holds = asyncio.run(_holds_encrypted_data(url))
    if holds and not configured.strip() and not key_file.is_file():
        raise KeyMaterialError(
            f"the database holds encrypted reports but the key file {key_file} is missing: "
            f"restore it from its backup (a new key could never read them; the bot did not "
            f"start)")
    material = load_key_material(configured, configured_lookup, key_file, create=not holds)
    if material.lookup_derived and not configured.strip():
        _save_derived_lookup(key_file, material)
    vault = material.vault()
    install_cipher(vault)
    asyncio.run(_check_canary(url, vault, describe_key_source(configured, key_file)))
    return vault


async def _holds_encrypted_data(url: str) -> bool:
    async with database(url) as sessions:
        return await holds_encrypted_data(sessions)


async def _check_canary(url: str, vault: Vault, where: str) -> None:
    async with database(url) as sessions:
        await check_canary(sessions, vault, where)


def _save_derived_lookup(key_file: Path, material: KeyMaterial) -> None:
    """A key file from before the lookup key: write the derived one into it, so that it no
    longer depends on which Fernet key is oldest."""
    try:
        write_key_file(key_file, material)
    except OSError as exc:
        log.warning("could not add the lookup key to %s (%s): it is derived at each start until "
                    "it can be", key_file, type(exc).__name__)
        return
    material.lookup_derived = False
    log.info("the lookup key is now kept in %s", key_file)


# ---- rotation ------------------------------------------------------------------------------------

async def reencrypt_all(sessions: async_sessionmaker[AsyncSession], vault: Vault, *,
                        batch: int = BATCH, progress: Progress | None = None) -> int:
    """Rewrite under the vault's first key every value it alone cannot read; returns how many
    values were rewritten. ``progress(rewritten so far)`` is called after each committed batch."""
    rewritten = 0
    for table, primary, secret in encrypted_columns():
        last: object = None
        while True:
            async with sessions.begin() as session:
                query = select(primary, *[_raw(c) for c in secret]).order_by(primary).limit(batch)
                if last is not None:
                    query = query.where(primary > last)
                rows = (await session.execute(query)).all()
                for row in rows:
                    rewritten += await _rewrite_row(session, table, primary, secret, row, vault)
                if rows:
                    last = rows[-1][0]
            if progress is not None and rows:
                progress(rewritten)
            if len(rows) < batch:
                break
    return rewritten


async def _rewrite_row(session: AsyncSession, table: Table, primary: Column[Any],
                       secret: list[Column[Any]], row: Sequence[Any], vault: Vault) -> int:
    values = list(row)
    count = 0
    for column, token in zip(secret, values[1:], strict=True):
        if token is None or vault.under_newest_key(str(token)):
            continue
        try:
            fresh = vault.rotate_text(str(token))
        except Exception as exc:  # InvalidToken: no configured key reads it
            raise KeyMaterialError(
                f"a value in {table.name} cannot be decrypted with the given keys: give every "
                f"key still in use (newest first) and run this again") from exc
        await session.execute(
            update(table).where(primary == values[0], _raw(column) == str(token))
            .values({column.name: type_coerce(fresh, Text)}))
        count += 1
    return count


async def values_needing_old_keys(sessions: async_sessionmaker[AsyncSession],
                                  vault: Vault) -> int:
    """How many stored values the newest key alone cannot read yet."""
    left = 0
    async with sessions() as session:
        for table, _primary, secret in encrypted_columns():
            result = await session.stream(
                select(*[_raw(c) for c in secret]).select_from(table)
                .where(or_(*[c.is_not(None) for c in secret])))
            async for row in result:
                left += sum(1 for token in row if token is not None
                            and not vault.under_newest_key(str(token)))
    return left


@contextmanager
def rotation_lock(key_file: Path) -> Iterator[None]:
    """One rotation at a time for this key file."""
    path = key_file.with_name(key_file.name + ".lock")
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KeyMaterialError(
                f"another `ppa-bot keys rotate` is running for {key_file}; wait for it") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def finish_rotation(sessions: async_sessionmaker[AsyncSession], vault: Vault, where: str,
                          *, batch: int = BATCH, progress: Progress | None = None) -> int:
    """Steps 2 and 3: re-encrypt, then check that the old keys are no longer needed."""
    await check_canary(sessions, vault, where)
    rewritten = await reencrypt_all(sessions, vault, batch=batch, progress=progress)
    left = await values_needing_old_keys(sessions, vault)
    if left:
        raise KeyMaterialError(
            f"{left} value(s) were written under an old key during the rotation (is a bot "
            f"running with the old key only?): stop it and run this again")
    return rewritten


def rotate_key_file(url: str, key_file: Path, *, configured_lookup: str = "",
                    batch: int = BATCH, progress: Progress | None = None) -> tuple[int, bool]:
    """The whole rotation with a key file; returns (values rewritten, whether it finished a
    rotation an earlier run left unfinished). Synchronous (a command of its own)."""
    if not key_file.is_file():
        raise KeyMaterialError(f"no key file {key_file}: restore it from its backup first")
    with rotation_lock(key_file):
        material = read_key_file(key_file)
        if configured_lookup.strip():
            material.lookup_key = configured_lookup.strip()
        resumed = len(material.fernet_keys) > 1
        if not resumed:
            material = KeyMaterial([generate_key(), *material.fernet_keys], material.lookup_key)
        # Step 1 (and a derived lookup key saved for good), before any row changes.
        write_key_file(key_file, material)
        vault = material.vault()
        install_cipher(vault)
        rewritten = asyncio.run(_finish_rotation(url, vault, f"the key file {key_file}", batch,
                                                 progress))
        write_key_file(key_file, KeyMaterial(material.fernet_keys[:1], material.lookup_key))
        return rewritten, resumed


async def _finish_rotation(url: str, vault: Vault, where: str, batch: int,
                           progress: Progress | None) -> int:
    async with database(url) as sessions:
        return await finish_rotation(sessions, vault, where, batch=batch, progress=progress)
