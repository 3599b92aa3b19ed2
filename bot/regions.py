"""Regions: importing the Kemendagri CSVs and finding a place from what a reporter types."""

from __future__ import annotations

import csv
import math
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
_FILLER = re.compile(r"\b(desa|kelurahan|kel|kec|kecamatan|kampung|dusun|ds|di|dari|daerah|"
                     r"sekitar|dekat|kampungnya|desanya|rt|rw)\b\.?")
MATCH_CUTOFF = 78.0


class RegionFileError(ValueError):
    """A region CSV that cannot be imported, with the line and the reason."""


def shipped_file(name: str) -> Path:
    return Path(str(resources.files("bot").joinpath("data", name)))


_KECAMATAN_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
_VILLAGE_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
VILLAGE_KINDS = {"desa", "kelurahan"}


def _read_csv(path: Path, required: set[str]) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV with the line each ends on; any unreadable file is a RegionFileError."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = required - set(reader.fieldnames or [])
            if missing:
                raise RegionFileError(f"{path}:1: missing columns {', '.join(sorted(missing))}")
            return [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k})
                    for row in reader]
    except UnicodeDecodeError as exc:
        raise RegionFileError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise RegionFileError(f"{path}: not a readable CSV ({exc})") from None


def _check_villages(path: Path, rows: list[tuple[int, dict[str, str]]],
                    kabupaten_code: str) -> None:
    """Refuse the whole file at its first bad line, before anything is written."""
    if not rows:
        raise RegionFileError(f"{path}: no villages in the file")
    kecamatan_names: dict[str, str] = {}
    seen: set[str] = set()
    for line, row in rows:
        kec, vil = row["kecamatan_code"], row["village_code"]
        where = f"{path}:{line}"
        if not _KECAMATAN_CODE.match(kec) or not _VILLAGE_CODE.match(vil):
            raise RegionFileError(f"{where}: codes must look like 64.01.05 and 64.01.05.2009, "
                                  f"not {kec!r} and {vil!r}")
        if not kec.startswith(kabupaten_code + ".") or not vil.startswith(kec + "."):
            raise RegionFileError(f"{where}: code {vil} is not inside kabupaten {kabupaten_code}")
        if not row["kecamatan"] or not row["village"]:
            raise RegionFileError(f"{where}: a kecamatan or village name is empty")
        if row["village_type"] and row["village_type"] not in VILLAGE_KINDS:
            raise RegionFileError(f"{where}: village_type must be desa or kelurahan, "
                                  f"not {row['village_type']!r}")
        if kecamatan_names.setdefault(kec, row["kecamatan"]) != row["kecamatan"]:
            raise RegionFileError(f"{where}: kecamatan {kec} is named both "
                                  f"{kecamatan_names[kec]!r} and {row['kecamatan']!r}")
        if vil in seen:
            raise RegionFileError(f"{where}: village {vil} appears twice")
        seen.add(vil)


async def import_regions(
    session: AsyncSession,
    wilayah: Path,
    aliases: Path | None,
    *,
    kabupaten_code: str,
    kabupaten_name: str,
) -> tuple[int, int]:
    """Insert or update the tree from CSV; return (villages, aliases). Both files are checked
    before anything is written, and it runs in the caller's transaction: a bad file changes
    nothing. Importing the same files again changes nothing either."""
    rows = _read_csv(wilayah, WILAYAH_COLUMNS)
    _check_villages(wilayah, rows, kabupaten_code)
    alias_rows = _read_csv(aliases, ALIAS_COLUMNS) if aliases is not None else []
    known = {kabupaten_code} | {r["kecamatan_code"] for _, r in rows} \
        | {r["village_code"] for _, r in rows}
    for line, row in alias_rows:
        if not row["alias"]:
            raise RegionFileError(f"{aliases}:{line}: the alias is empty")
        if row["region_code"] not in known \
                and await session.get(Region, row["region_code"]) is None:
            raise RegionFileError(f"{aliases}:{line}: unknown region {row['region_code']}")
    await _upsert(session, kabupaten_code, kabupaten_name, KABUPATEN, None, None)
    for _line, row in rows:
        kec, vil = row["kecamatan_code"], row["village_code"]
        await _upsert(session, kec, row["kecamatan"], KECAMATAN, None, kabupaten_code)
        await _upsert(session, vil, row["village"], VILLAGE, row["village_type"] or "desa", kec)
    if aliases is not None:
        await session.execute(delete(RegionAlias))
        for _line, row in alias_rows:
            session.add(RegionAlias(region_code=row["region_code"], alias=row["alias"],
                                    why=row.get("why", "")))
    await session.flush()
    return len(rows), len(alias_rows)


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
    kind: str | None = None  # desa | kelurahan for villages


@dataclass
class RegionDirectory:
    """The region tree held in memory for menus and matching (a few hundred rows, read-only)."""

    places: dict[str, Place] = field(default_factory=dict)
    # (normalised spelling, code): every official name and every alias.
    spellings: list[tuple[str, str]] = field(default_factory=list)
    # Village code → (latitude, longitude) of its centre. Empty: the shipped data has no
    # coordinates, and none may be made up. A district that has them from a source whose licence
    # allows shipping them (named in the data's SOURCES) fills this, and a location a reporter
    # shares then suggests the nearest villages to confirm (``nearest_villages``).
    coordinates: dict[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    async def load(cls, session: AsyncSession) -> RegionDirectory:
        directory = cls()
        for region in await session.scalars(select(Region).order_by(Region.code)):
            directory.places[region.code] = Place(region.code, region.name, region.level,
                                                  region.parent_code, region.kind)
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
        exact, fuzzy = self._match(text, level, within, limit)
        return [self.places[c] for c in (exact or fuzzy)][:limit]

    def search_near(self, text: str, *, level: str, near: str | None,
                    limit: int = 4) -> list[Place]:
        """Like ``search`` inside the kecamatan ``near``, but a name spelled exactly right that
        lies in another kecamatan comes first: people often pick the wrong kecamatan."""
        exact_near, fuzzy_near = self._match(text, level, near, limit)
        if exact_near:
            return [self.places[c] for c in exact_near][:limit]
        exact, fuzzy = self._match(text, level, None, limit)
        ranked = _unique([*exact, *fuzzy_near]) or fuzzy
        return [self.places[c] for c in ranked][:limit]

    def _match(self, text: str, level: str, within: str | None,
               limit: int) -> tuple[list[str], list[str]]:
        """Codes whose name or alias is exactly the text, and codes that match it fuzzily."""
        query = normalise(text)
        if len(query) < 3:
            return [], []
        candidates = [(s, c) for s, c in self.spellings
                      if self.places[c].level == level
                      and (within is None or self.places[c].parent_code == within)]
        exact = _unique(c for s, c in candidates if s == query)
        if exact:
            return exact, []
        scored = process.extract(query, [s for s, _ in candidates], scorer=fuzz.WRatio,
                                 score_cutoff=MATCH_CUTOFF, limit=limit * 3)
        return [], _unique(candidates[index][1] for _, _, index in scored)


    def nearest_villages(self, latitude: float, longitude: float, *, within: str | None = None,
                         limit: int = 3, radius_km: float = 15.0) -> list[Place]:
        """The villages whose centres lie nearest a shared location (within ``radius_km``), to
        confirm; none when the region data carries no coordinates."""
        found = []
        for code, (lat, lon) in self.coordinates.items():
            place = self.places.get(code)
            if place is None or place.level != VILLAGE or (within and place.parent_code != within):
                continue
            distance = _km(latitude, longitude, lat, lon)
            if distance <= radius_km:
                found.append((distance, place))
        return [place for _, place in sorted(found, key=lambda pair: pair[0])][:limit]


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def _unique(codes: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for code in codes:
        seen.setdefault(code, None)
    return list(seen)
