"""Regions: importing the Kemendagri CSVs and finding a place from what a reporter types."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from rapidfuzz import fuzz, process, utils
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Region, RegionAlias
from models.region import KABUPATEN, KECAMATAN, VILLAGE

WILAYAH_COLUMNS = {"kecamatan_code", "kecamatan", "village_code", "village", "village_type"}
ALIAS_COLUMNS = {"region_code", "alias"}
# Words people add around a place name that carry no meaning for matching.
_FILLER = re.compile(r"\b(desa|kelurahan|kel|kec|kecamatan|kampung|dusun|ds)\b\.?")
MATCH_CUTOFF = 78.0


class RegionFileError(ValueError):
    """A region CSV that cannot be imported, with the line and the reason."""


def shipped_file(name: str) -> Path:
    return Path(str(resources.files("bot").joinpath("data", name)))


def _read_csv(path: Path, required: set[str]) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise RegionFileError(f"{path}: missing columns {', '.join(sorted(missing))}")
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


async def import_regions(
    session: AsyncSession,
    wilayah: Path,
    aliases: Path | None,
    *,
    kabupaten_code: str,
    kabupaten_name: str,
) -> tuple[int, int]:
    """Insert or update the tree from CSV; return (villages, aliases). Runs in the caller's
    transaction, so a bad file changes nothing."""
    rows = _read_csv(wilayah, WILAYAH_COLUMNS)
    await _upsert(session, kabupaten_code, kabupaten_name, KABUPATEN, None, None)
    for line, row in enumerate(rows, start=2):
        kec, vil = row["kecamatan_code"], row["village_code"]
        if not kec.startswith(kabupaten_code + ".") or not vil.startswith(kec + "."):
            raise RegionFileError(
                f"{wilayah}:{line}: code {vil} is not inside kabupaten {kabupaten_code}"
            )
        await _upsert(session, kec, row["kecamatan"], KECAMATAN, None, kabupaten_code)
        await _upsert(session, vil, row["village"], VILLAGE, row["village_type"] or "desa", kec)
    alias_count = 0
    if aliases is not None:
        await session.execute(delete(RegionAlias))
        for line, row in enumerate(_read_csv(aliases, ALIAS_COLUMNS), start=2):
            if await session.get(Region, row["region_code"]) is None:
                raise RegionFileError(f"{aliases}:{line}: unknown region {row['region_code']}")
            session.add(RegionAlias(region_code=row["region_code"], alias=row["alias"],
                                    why=row.get("why", "")))
            alias_count += 1
    await session.flush()
    return len(rows), alias_count


async def _upsert(session: AsyncSession, code: str, name: str, level: str, kind: str | None,
                  parent: str | None) -> None:
    region = await session.get(Region, code)
    if region is None:
        session.add(Region(code=code, name=name, level=level, kind=kind, parent_code=parent))
        await session.flush()
    else:
        region.name, region.level, region.kind, region.parent_code = name, level, kind, parent


async def region_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Region)) or 0)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = _FILLER.sub(" ", text.lower())
    return utils.default_process(text)


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: str
    parent_code: str | None


@dataclass
class RegionDirectory:
    """The region tree held in memory for menus and matching (a few hundred rows, read-only)."""

    places: dict[str, Place] = field(default_factory=dict)
    # (normalised spelling, code): every official name and every alias.
    spellings: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    async def load(cls, session: AsyncSession) -> RegionDirectory:
        directory = cls()
        for region in await session.scalars(select(Region).order_by(Region.code)):
            directory.places[region.code] = Place(region.code, region.name, region.level,
                                                  region.parent_code)
            directory.spellings.append((normalise(region.name), region.code))
        for alias in await session.scalars(select(RegionAlias)):
            directory.spellings.append((normalise(alias.alias), alias.region_code))
        return directory

    def kecamatan(self) -> list[Place]:
        return sorted((p for p in self.places.values() if p.level == KECAMATAN),
                      key=lambda p: p.name)

    def villages(self, kecamatan_code: str) -> list[Place]:
        return sorted((p for p in self.places.values()
                       if p.level == VILLAGE and p.parent_code == kecamatan_code),
                      key=lambda p: p.name)

    def get(self, code: str | None) -> Place | None:
        return self.places.get(code) if code else None

    def search(self, text: str, *, level: str, within: str | None = None,
               limit: int = 4) -> list[Place]:
        """Best matches for typed text among places of one level, optionally inside a kecamatan.

        Exact spellings (names or aliases) win outright; otherwise fuzzy scores above a cut-off,
        best first, one entry per place.
        """
        query = normalise(text)
        if len(query) < 3:
            return []
        candidates = [(s, c) for s, c in self.spellings
                      if self.places[c].level == level
                      and (within is None or self.places[c].parent_code == within)]
        exact = _unique(c for s, c in candidates if s == query)
        if exact:
            return [self.places[c] for c in exact][:limit]
        scored = process.extract(query, [s for s, _ in candidates], scorer=fuzz.WRatio,
                                 score_cutoff=MATCH_CUTOFF, limit=limit * 3)
        ranked = _unique(candidates[index][1] for _, _, index in scored)
        return [self.places[c] for c in ranked][:limit]


def _unique(codes: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for code in codes:
        seen.setdefault(code, None)
    return list(seen)
