"""The region tree: kabupaten → kecamatan → desa/kelurahan, keyed by Kemendagri codes."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId

KABUPATEN = "kabupaten"
KECAMATAN = "kecamatan"
VILLAGE = "village"


class Region(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(12))  # kabupaten | kecamatan | village
    kind: Mapped[str | None] = mapped_column(String(12))  # desa | kelurahan for villages
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("regions.code", ondelete="RESTRICT"), index=True
    )


class RegionAlias(Base):
    __tablename__ = "region_aliases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code", ondelete="CASCADE"),
                                             index=True)
    alias: Mapped[str] = mapped_column(String(120))
    why: Mapped[str] = mapped_column(String(200), default="")
