"""SIMFONI-PPA categories and the per-victim register layout, as pure data (no database, no bot).

SIMFONI-PPA (Sistem Informasi Online Perlindungan Perempuan dan Anak) is KemenPPPA's national case
register; the district reports every case to it. ``docs/SIMFONI.md`` says where each list below
comes from and how sure it is (``Basis``); ``tests/test_simfoni.py`` keeps this module and that
document identical, so neither changes without the other.

Codes are stable: they are stored and written in exports, never renamed or reused (a label may
be corrected). ``simfoni`` is the label as SIMFONI-PPA writes it (Indonesian): what an export
carries and what an imported register holds. ``en`` is an English gloss for code and docs. Text
shown to people goes through gettext in the views, not from here.

``None`` stands for "not known" in every field; SIMFONI-PPA's published figures count such
answers as ``NA``, and an export writes that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Basis(StrEnum):
    """How a list is known; docs/SIMFONI.md, "How sure each list is", explains each."""

    DASHBOARD = "dashboard"  # the categories KemenPPPA publishes SIMFONI-PPA figures by
    REGISTER_COPY = "register-copy"  # only from a public application that copies the SIMFONI form
    REGULATION = "regulation"  # named by a law or ministerial regulation
    PROJECT = "project"  # ppa-bot's own list (issue 13), not a SIMFONI-PPA field


@dataclass(frozen=True)
class Category:
    code: str
    simfoni: str
    en: str


@dataclass(frozen=True)
class ServiceKind(Category):
    in_simfoni: bool  # one of the services SIMFONI-PPA counts ("Pelayanan yang Diberikan")


class UnknownValue(ValueError):
    """A value that is neither a code nor a label of its list; the importer names line and field."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"{field}: {value!r} is not one of its values")
        self.field = field
        self.value = value


UNKNOWN_LABEL = "NA"
_BLANKS = {"", "-", "na", "n/a", "tidak diketahui"}


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip()).casefold()


@dataclass(frozen=True)
class CategorySet:
    name: str  # the field's key in code
    title: str  # the field's name in SIMFONI-PPA
    basis: Basis
    items: tuple[Category, ...]

    def codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)

    def get(self, code: str) -> Category:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(f"{self.name}: no code {code!r}")

    def label(self, code: str | None) -> str:
        """The SIMFONI-PPA label of a stored code; ``NA`` for not known."""
        return UNKNOWN_LABEL if code is None else self.get(code).simfoni

    def parse(self, text: str) -> str | None:
        """The code for a typed or imported value: a code or a SIMFONI label, any case and spacing.
        Blank, ``-`` and ``NA`` mean not known (None)."""
        folded = _fold(text)
        if folded in _BLANKS:
            return None
        for item in self.items:
            if folded in (item.code.casefold(), _fold(item.simfoni)):
                return item.code
        raise UnknownValue(self.name, text)

    def parse_many(self, text: str) -> list[str]:
        """A set of values joined with ``;`` (or ``,``): in the list's order, each once."""
        found = {code for part in re.split(r"[;,]", text)
                 if (code := self.parse(part)) is not None}
        return [code for code in self.codes() if code in found]

    def parse_each(self, text: str) -> list[str | None]:
        """One value per person, joined with ``;``, in order; ``NA`` keeps its place as None."""
        return [] if not text.strip() else [self.parse(part) for part in text.split(";")]


# --- The case -------------------------------------------------------------------------------

SEXUAL = "seksual"
TRAFFICKING = "tppo"

VIOLENCE_FORMS = CategorySet("violence", "Bentuk Kekerasan", Basis.DASHBOARD, (
    Category("fisik", "Fisik", "Physical"),
    Category("psikis", "Psikis", "Psychological"),
    Category(SEXUAL, "Seksual", "Sexual"),
    Category("eksploitasi", "Eksploitasi", "Exploitation"),
    Category(TRAFFICKING, "Trafficking", "Trafficking (TPPO)"),
    Category("penelantaran", "Penelantaran", "Neglect"),
    Category("lainnya", "Lainnya", "Other"),
))

PLACES = CategorySet("place", "Tempat Kejadian", Basis.DASHBOARD, (
    Category("rumah_tangga", "Rumah Tangga", "Household"),
    Category("tempat_kerja", "Tempat Kerja", "Workplace"),
    Category("sekolah", "Sekolah", "School"),
    Category("fasilitas_umum", "Fasilitas Umum", "Public facility"),
    Category("lembaga_pendidikan_kilat", "Lembaga Pendidikan Kilat",
             "Short-course education institution"),
    Category("lainnya", "Lainnya", "Other"),
))

# --- People ---------------------------------------------------------------------------------

SEXES = CategorySet("sex", "Jenis Kelamin", Basis.DASHBOARD, (
    Category("f", "Perempuan", "Female"),
    Category("m", "Laki-laki", "Male"),
))

AGE_BANDS = CategorySet("age_band", "Kelompok Usia", Basis.DASHBOARD, (
    Category("0-5", "0-5", "0–5 years"),
    Category("6-12", "6-12", "6–12 years"),
    Category("13-17", "13-17", "13–17 years"),
    Category("18-24", "18-24", "18–24 years"),
    Category("25-44", "25-44", "25–44 years"),
    Category("45-59", "45-59", "45–59 years"),
    Category("60+", "60+", "60 or older"),
))
CHILD_MAX_AGE = 17  # a child is under 18 (UU 35/2014 Pasal 1 angka 1)
MAX_AGE = 120

EDUCATION = CategorySet("education", "Pendidikan", Basis.DASHBOARD, (
    Category("tidak_sekolah", "Tidak/Belum Pernah Sekolah", "Never attended school"),
    Category("tk_paud", "TK/PAUD", "Kindergarten / early childhood"),
    Category("sd", "SD", "Primary school"),
    Category("sltp", "SLTP", "Junior secondary"),
    Category("slta", "SLTA", "Senior secondary"),
    Category("perguruan_tinggi", "Perguruan Tinggi", "Higher education"),
))

OCCUPATIONS = CategorySet("occupation", "Pekerjaan", Basis.DASHBOARD, (
    Category("pelajar", "Pelajar", "Pupil or student"),
    Category("ibu_rumah_tangga", "Ibu Rumah Tangga", "Housewife"),
    Category("tidak_bekerja", "Tidak Bekerja", "Not working"),
    Category("swasta_buruh", "Swasta/Buruh", "Private employee / labourer"),
    Category("bekerja", "Bekerja", "Working (other)"),
    Category("pns_tni_polri", "PNS/TNI/Polri", "Civil servant / military / police"),
    Category("pedagang_tani_nelayan", "Pedagang/Tani/Nelayan", "Trader / farmer / fisher"),
))

MARITAL_STATUSES = CategorySet("marital_status", "Status Perkawinan", Basis.REGISTER_COPY, (
    Category("belum_menikah", "Belum Menikah", "Not married"),
    Category("menikah", "Menikah", "Married"),
    Category("duda_janda", "Duda/Janda", "Widowed or divorced"),
    Category("sirri", "Sirri", "Religious marriage, not registered"),
))

DISABILITY = CategorySet("disability", "Disabilitas", Basis.REGISTER_COPY, (
    Category("ya", "Ya", "Yes"),
    Category("tidak", "Tidak", "No"),
))

RELATIONS = CategorySet("relation", "Hubungan Pelaku dengan Korban", Basis.DASHBOARD, (
    Category("orang_tua", "Orang Tua", "Parent"),
    Category("keluarga", "Keluarga/Saudara", "Family / relative"),
    Category("suami_istri", "Suami/Istri", "Husband / wife"),
    Category("pacar_teman", "Pacar/Teman", "Boyfriend, girlfriend or friend"),
    Category("tetangga", "Tetangga", "Neighbour"),
    Category("guru", "Guru", "Teacher"),
    Category("majikan", "Majikan", "Employer"),
    Category("rekan_kerja", "Rekan Kerja", "Co-worker"),
    Category("lainnya", "Lainnya", "Other"),
))

# --- Services, intake -----------------------------------------------------------------------

MEDIATION = "mediasi"

SERVICE_KINDS = CategorySet("service", "Pelayanan yang Diberikan", Basis.DASHBOARD, (
    ServiceKind("pengaduan", "Pengaduan", "Complaint intake", in_simfoni=True),
    ServiceKind("kesehatan", "Kesehatan", "Health care", in_simfoni=True),
    ServiceKind("bantuan_hukum", "Bantuan Hukum", "Legal aid", in_simfoni=True),
    ServiceKind("penegakan_hukum", "Penegakan Hukum", "Law enforcement", in_simfoni=True),
    ServiceKind("rehabilitasi_sosial", "Rehabilitasi Sosial", "Social rehabilitation",
                in_simfoni=True),
    ServiceKind("reintegrasi_sosial", "Reintegrasi Sosial", "Social reintegration",
                in_simfoni=True),
    ServiceKind("pemulangan", "Pemulangan", "Return home", in_simfoni=True),
    ServiceKind("pendampingan_tokoh_agama", "Pendampingan Tokoh Agama",
                "Support by a religious leader", in_simfoni=True),
    ServiceKind("pendampingan_psikologis", "Pendampingan Psikologis", "Psychological support",
                in_simfoni=False),
    ServiceKind("penampungan_sementara", "Penampungan Sementara", "Temporary shelter",
                in_simfoni=False),
    ServiceKind(MEDIATION, "Mediasi", "Mediation", in_simfoni=False),
))

BOT_CHANNEL = "bot"
INTAKE_CHANNELS = CategorySet("channel", "Saluran Masuk", Basis.PROJECT, (
    Category(BOT_CHANNEL, "Laporan melalui bot", "Report through the bot"),
    Category("datang_langsung", "Datang langsung", "Walk-in"),
    Category("telepon", "Telepon", "Telephone"),
    Category("rujukan_sapa129", "Rujukan SAPA 129", "Referred by SAPA 129"),
    Category("rujukan_lembaga_lain", "Rujukan lembaga lain", "Referred by another agency"),
    Category("penjangkauan", "Penjangkauan", "Outreach"),
    Category("surat", "Surat", "Letter"),
))
# What an officer recording a case that came another way chooses from (/kasus_baru).
OFFICER_CHANNELS = tuple(code for code in INTAKE_CHANNELS.codes() if code != BOT_CHANNEL)

CATEGORY_SETS = (VIOLENCE_FORMS, PLACES, SEXES, AGE_BANDS, EDUCATION, OCCUPATIONS,
                 MARITAL_STATUSES, DISABILITY, RELATIONS, SERVICE_KINDS, INTAKE_CHANNELS)

# --- Rules ----------------------------------------------------------------------------------

POLICE_REFERRAL_HOURS = 72  # UU TPKS Pasal 41 ayat (3): 3 x 24 jam since the victim reported
MEDIATION_REFUSED_SEXUAL = "tpks_pasal_23"


def age_band(age: int) -> str:
    """The SIMFONI-PPA age group of an age in whole years."""
    if not 0 <= age <= MAX_AGE:
        raise ValueError(f"age {age} is outside 0–{MAX_AGE}")
    for code in AGE_BANDS.codes():
        low, _, high = code.partition("-")
        if code.endswith("+") and age >= int(code[:-1]):
            return code
        if high and int(low) <= age <= int(high):
            return code
    raise AssertionError("the age bands cover 0 and up")  # pragma: no cover


def is_child(age: int) -> bool:
    return age <= CHILD_MAX_AGE


def police_deadline_applies(violence: Iterable[str]) -> bool:
    """The 3 x 24 h police referral: sexual violence (UU TPKS Pasal 41) and, by the district's
    rule (issue 13), trafficking."""
    return bool(set(violence) & {SEXUAL, TRAFFICKING})


def mediation_refusal(violence: Iterable[str]) -> str | None:
    """Why mediation may not be offered, or None: sexual violence is never settled outside the
    justice process (UU TPKS Pasal 23)."""
    return MEDIATION_REFUSED_SEXUAL if SEXUAL in set(violence) else None


# --- The per-victim register ------------------------------------------------------------------

MULTI_SEPARATOR = "; "
DATE_FORMAT = "%Y-%m-%d"


class Origin(StrEnum):
    """Where a column comes from; docs/SIMFONI.md, "Per-victim columns", explains each."""

    REGISTER = "register"  # a field of the SIMFONI-PPA case register
    GROUPING = "grouping"  # how SIMFONI-PPA's published figures group a register field
    PPA_BOT = "ppa-bot"  # ppa-bot's own, to import and check rows


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the sheet's and the CSV's header
    en: str
    values: CategorySet | None = None  # the list its values come from; None: free (date, number…)
    multiple: bool = False  # a set of values joined with MULTI_SEPARATOR (CategorySet.parse_many)
    per_perpetrator: bool = False  # one value per perpetrator, in order (CategorySet.parse_each)
    origin: Origin = Origin.REGISTER


# One row per victim, in the order of the SIMFONI-PPA register (case, victim, services,
# perpetrators), then ppa-bot's own columns. docs/SIMFONI.md, "Per-victim columns", is the
# same list; names, addresses, phone numbers, NIK and the narrative are never exported.
VICTIM_COLUMNS: tuple[Column, ...] = (
    Column("reference", "Referensi", "ppa-bot reference", origin=Origin.PPA_BOT),
    Column("victim_number", "Korban ke-", "Victim number within the case",
           origin=Origin.PPA_BOT),
    Column("incident_date", "Tanggal Kejadian", "Date of the incident"),
    Column("report_date", "Tanggal Pelaporan", "Date reported"),
    Column("place", "Tempat Kejadian", "Place of the incident", PLACES),
    Column("province", "Provinsi", "Province"),
    Column("kabupaten", "Kota/Kabupaten", "City or regency"),
    Column("kecamatan", "Kecamatan", "District (kecamatan)"),
    Column("village", "Desa/Kelurahan", "Village"),
    Column("village_code", "Kode Desa/Kelurahan", "Kemendagri village code",
           origin=Origin.PPA_BOT),
    Column("victim_sex", "Jenis Kelamin Korban", "Victim's sex", SEXES),
    Column("victim_age", "Usia Korban", "Victim's age in years"),
    Column("victim_age_band", "Kelompok Usia Korban", "Victim's age group", AGE_BANDS,
           origin=Origin.GROUPING),
    Column("violence", "Bentuk Kekerasan", "Forms of violence", VIOLENCE_FORMS, multiple=True),
    Column("education", "Pendidikan Korban", "Victim's education", EDUCATION),
    Column("occupation", "Pekerjaan Korban", "Victim's occupation", OCCUPATIONS),
    Column("marital_status", "Status Perkawinan Korban", "Victim's marital status",
           MARITAL_STATUSES),
    Column("disability", "Disabilitas Korban", "Victim has a disability", DISABILITY),
    Column("services", "Pelayanan yang Diberikan", "Services given", SERVICE_KINDS,
           multiple=True),
    Column("perpetrator_count", "Jumlah Pelaku", "Number of perpetrators",
           origin=Origin.PPA_BOT),
    Column("perpetrator_sex", "Jenis Kelamin Pelaku", "Perpetrators' sex", SEXES,
           per_perpetrator=True),
    Column("perpetrator_age", "Usia Pelaku", "Perpetrators' ages", per_perpetrator=True),
    Column("perpetrator_relation", "Hubungan Pelaku dengan Korban",
           "Perpetrators' relation to the victim", RELATIONS, per_perpetrator=True),
    Column("channel", "Saluran Masuk", "How the case came in", INTAKE_CHANNELS,
           origin=Origin.PPA_BOT),
)


def victim_headers() -> list[str]:
    return [column.header for column in VICTIM_COLUMNS]
