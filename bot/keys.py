"""Key rotation: re-encrypt every secret column under the newest key, and re-hash reporter ids.

The vault passed in decrypts with every key and encrypts with the first, so rows are readable at
every moment of the rotation and a crash half-way is finished by running it again.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.attributes import flag_modified

from bot.crypto import Vault
from models import Base, Reporter
from models.encryption import EncryptedText

BATCH = 500


def encrypted_columns() -> list[tuple[Mapper[object], list[str]]]:
    found = []
    for mapper in Base.registry.mappers:
        names = [attr.key for attr in mapper.column_attrs
                 if any(isinstance(col.type, EncryptedText) for col in attr.columns)]
        if names:
            found.append((mapper, names))
    return found


async def reencrypt_all(sessions: async_sessionmaker[AsyncSession], vault: Vault) -> int:
    """Rewrite every encrypted value with the vault's first key; returns rows rewritten."""
    rewritten = 0
    for mapper, names in encrypted_columns():
        model = mapper.class_
        primary = mapper.primary_key[0]
        primary_name = mapper.get_property_by_column(primary).key
        last = None
        while True:
            async with sessions.begin() as session:
                query = select(model).order_by(primary).limit(BATCH)
                if last is not None:
                    query = query.where(primary > last)
                rows = list(await session.scalars(query))
                for row in rows:
                    for name in names:
                        flag_modified(row, name)
                    if isinstance(row, Reporter):
                        row.tg_hash = vault.hash_id(int(row.chat_id))
                if rows:
                    last = getattr(rows[-1], primary_name)
                rewritten += len(rows)
            if len(rows) < BATCH:
                break
    return rewritten
