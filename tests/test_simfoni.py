"""SIMFONI-PPA (issue 13): the categories, services, intake channels and per-victim columns in
``bot/domain/simfoni.py`` are exactly those written in ``docs/SIMFONI.md``; the sample register in
``docs/`` and the Paser provider directory are valid against them."""

from __future__ import annotations

import csv
import importlib
import re
from collections import defaultdict
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

from bot.domain import simfoni
from bot.domain.simfoni import (
    AGE_BANDS,
    CATEGORY_SETS,
    INTAKE_CHANNELS,
    PLACES,
    RELATIONS,
    SERVICE_KINDS,
    VICTIM_COLUMNS,
    VIOLENCE_FORMS,
    CategorySet,
    Column,
    ServiceKind,
    UnknownValue,
)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "SIMFONI.md"
SAMPLE = ROOT / "docs" / "register-sample.csv"
PROVIDERS = ROOT / "bot" / "data" / "paser_layanan.csv"
PROVIDERS_DOC = ROOT / "docs" / "PROVIDERS.md"
WILAYAH = ROOT / "bot" / "data" / "paser_wilayah.csv"


def doc_table(path: Path, marker: str) -> list[list[str]]:
    """The rows (cells without backticks) of the Markdown table that follows ``<!-- marker -->``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"<!-- {marker} -->") + 1
    rows: list[list[str]] = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().replace("`", "") for cell in line.strip().strip("|").split("|")])
    assert len(rows) > 2, f"no table after <!-- {marker} --> in {path.name}"
    return rows[2:]  # without the header and the |---| line


def doc_markers(path: Path, prefix: str) -> set[str]:
    return set(re.findall(rf"<!-- {prefix}:(\S+) -->", path.read_text(encoding="utf-8")))


def values_cell(column: Column) -> str:
    text = column.values.name if column.values else "—"
    if column.multiple:
        text += " (several)"
    if column.per_perpetrator:
        text += " (one per perpetrator)"
    return text


# --- The module and the document say the same ------------------------------------------------

def test_the_per_victim_columns_are_those_of_the_document_in_its_order() -> None:
    in_doc = doc_table(DOC, "victim-columns")
    in_code = [[str(n), c.key, c.header, c.en, values_cell(c), c.origin.value]
               for n, c in enumerate(VICTIM_COLUMNS, start=1)]
    assert in_doc == in_code


@pytest.mark.parametrize("values", CATEGORY_SETS, ids=lambda s: s.name)
def test_each_list_of_values_is_the_document_s(values: CategorySet) -> None:
    in_code = [[c.code, c.simfoni, c.en] for c in values.items]
    if values is SERVICE_KINDS:
        in_code = [[*row, "yes" if isinstance(c, ServiceKind) and c.in_simfoni else "no"]
                   for row, c in zip(in_code, values.items, strict=True)]
    assert doc_table(DOC, f"values:{values.name}") == in_code


def test_the_document_has_a_table_and_a_basis_for_every_list_and_no_other() -> None:
    assert doc_markers(DOC, "values") == {s.name for s in CATEGORY_SETS}
    bases = {row[0]: (row[1], row[2]) for row in doc_table(DOC, "bases")}
    assert bases == {s.name: (s.title, s.basis.value) for s in CATEGORY_SETS}


def test_codes_and_labels_are_unique_so_an_imported_value_has_one_meaning() -> None:
    for values in CATEGORY_SETS:
        codes = values.codes()
        labels = [c.simfoni.casefold() for c in values.items]
        assert len(set(codes)) == len(codes), values.name
        assert len(set(labels)) == len(labels), values.name
        for item in values.items:
            assert values.parse(item.code) == item.code
            assert values.parse(item.simfoni) == item.code
    assert len({c.key for c in VICTIM_COLUMNS}) == len(VICTIM_COLUMNS)
    assert len({c.header for c in VICTIM_COLUMNS}) == len(VICTIM_COLUMNS)


# --- What the lists must contain -------------------------------------------------------------

def test_the_six_places_end_the_old_lembaga_pendidikan() -> None:
    assert PLACES.codes() == ("rumah_tangga", "tempat_kerja", "sekolah", "fasilitas_umum",
                              "lembaga_pendidikan_kilat", "lainnya")
    assert PLACES.label("lembaga_pendidikan_kilat") == "Lembaga Pendidikan Kilat"
    with pytest.raises(UnknownValue):
        PLACES.parse("Lembaga Pendidikan")


def test_services_hold_issue_13_s_nine_and_the_eight_simfoni_counts() -> None:
    issue_13 = {"pengaduan", "kesehatan", "bantuan_hukum", "penegakan_hukum",
                "rehabilitasi_sosial", "reintegrasi_sosial", "pemulangan",
                "pendampingan_psikologis", "penampungan_sementara"}
    assert issue_13 <= set(SERVICE_KINDS.codes())
    counted = {c.code for c in SERVICE_KINDS.items if isinstance(c, ServiceKind) and c.in_simfoni}
    assert counted == {"pengaduan", "kesehatan", "bantuan_hukum", "penegakan_hukum",
                       "rehabilitasi_sosial", "reintegrasi_sosial", "pemulangan",
                       "pendampingan_tokoh_agama"}


def test_an_officer_chooses_among_the_six_channels_of_issue_13() -> None:
    assert simfoni.OFFICER_CHANNELS == ("datang_langsung", "telepon", "rujukan_sapa129",
                                        "rujukan_lembaga_lain", "penjangkauan", "surat")
    assert set(INTAKE_CHANNELS.codes()) == {simfoni.BOT_CHANNEL, *simfoni.OFFICER_CHANNELS}


def report_form() -> ModuleType:
    """The report form, wherever the code layout keeps it."""
    for name in ("bot.domain.form", "bot.report_form"):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError:
            continue
    raise AssertionError("no report form module")


def test_the_report_form_speaks_the_same_codes_except_its_old_place() -> None:
    form = report_form()
    assert [v for v, _ in form.OPTIONS[form.TYPES]] == list(VIOLENCE_FORMS.codes())
    relations = [v for v, _ in form.OPTIONS[form.PERPETRATOR]]
    assert [v for v in relations if v != "tidak_tahu"] == list(RELATIONS.codes())
    bands = [v for category in form.AGE_BANDS.values() for v, _ in category]
    assert bands == list(AGE_BANDS.codes())
    places = {v for v, _ in form.OPTIONS[form.PLACE]}
    assert places - set(PLACES.codes()) <= {"lembaga_pendidikan"}  # no SIMFONI counterpart


# --- Reading values --------------------------------------------------------------------------

def test_a_value_is_read_as_code_or_label_in_any_case_and_na_means_not_known() -> None:
    assert PLACES.parse("  rumah   TANGGA ") == "rumah_tangga"
    assert PLACES.parse("fasilitas_umum") == "fasilitas_umum"
    for blank in ("", " ", "NA", "na", "N/A", "-", "tidak diketahui"):
        assert PLACES.parse(blank) is None
    with pytest.raises(UnknownValue) as caught:
        PLACES.parse("Pasar")
    assert (caught.value.field, caught.value.value) == ("place", "Pasar")
    assert PLACES.label(None) == "NA"


def test_several_values_come_in_list_order_once_and_per_person_values_keep_their_place() -> None:
    assert VIOLENCE_FORMS.parse_many("Seksual; fisik, Seksual;") == ["fisik", "seksual"]
    assert VIOLENCE_FORMS.parse_many("") == []
    assert RELATIONS.parse_each("Guru; NA; guru") == ["guru", None, "guru"]
    assert RELATIONS.parse_each(" ") == []
    with pytest.raises(UnknownValue):
        VIOLENCE_FORMS.parse_many("Fisik; Pukul")


@pytest.mark.parametrize(("age", "band"), [
    (0, "0-5"), (5, "0-5"), (6, "6-12"), (12, "6-12"), (13, "13-17"), (17, "13-17"),
    (18, "18-24"), (24, "18-24"), (25, "25-44"), (44, "25-44"), (45, "45-59"), (59, "45-59"),
    (60, "60+"), (120, "60+"),
])
def test_every_age_falls_in_one_simfoni_age_group(age: int, band: str) -> None:
    assert simfoni.age_band(age) == band
    assert simfoni.is_child(age) == (age < 18)


@pytest.mark.parametrize("age", [-1, 121])
def test_an_impossible_age_is_refused(age: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        simfoni.age_band(age)


# --- Legal rules -------------------------------------------------------------------------------

def test_the_police_deadline_covers_sexual_violence_and_trafficking_only() -> None:
    assert simfoni.police_deadline_applies(["fisik", "seksual"])
    assert simfoni.police_deadline_applies(["tppo"])
    assert not simfoni.police_deadline_applies(["fisik", "psikis", "eksploitasi"])
    assert not simfoni.police_deadline_applies([])
    assert simfoni.POLICE_REFERRAL_HOURS == 72


def test_mediation_is_refused_for_sexual_violence_with_its_reason() -> None:
    assert simfoni.mediation_refusal(["psikis", "seksual"]) == "tpks_pasal_23"
    assert simfoni.mediation_refusal(["fisik", "penelantaran"]) is None
    assert simfoni.mediation_refusal(["tppo"]) is None


# --- The sample register ---------------------------------------------------------------------

def villages() -> dict[str, dict[str, str]]:
    with WILAYAH.open(encoding="utf-8") as fh:
        return {row["village_code"]: row for row in csv.DictReader(fh)}


def sample_rows() -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        assert next(reader) == simfoni.victim_headers()
        return [dict(zip([c.key for c in VICTIM_COLUMNS], row, strict=True)) for row in reader]


def optional_date(text: str) -> date | None:
    return None if text in ("", simfoni.UNKNOWN_LABEL) else date.fromisoformat(text)


def test_the_sample_register_is_one_valid_row_per_fictional_victim() -> None:
    rows = sample_rows()
    places = villages()
    assert 5 <= len(rows) <= 30
    by_case: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        assert row["reference"].startswith("CONTOH-"), "sample references are clearly fictional"
        by_case[row["reference"]].append(row)
        village = places[row["village_code"]]
        assert (row["kecamatan"], row["village"]) == (village["kecamatan"], village["village"])
        assert (row["province"], row["kabupaten"]) == ("Kalimantan Timur", "Kabupaten Paser")
        reported = date.fromisoformat(row["report_date"])
        happened = optional_date(row["incident_date"])
        assert happened is None or happened <= reported
        age = int(row["victim_age"])
        assert AGE_BANDS.parse(row["victim_age_band"]) == simfoni.age_band(age)
        for column in VICTIM_COLUMNS:
            if column.values is None:
                continue
            if column.multiple:
                assert column.values.parse_many(row[column.key]), column.key
            elif column.per_perpetrator:
                assert len(column.values.parse_each(row[column.key])) == int(
                    row["perpetrator_count"]), column.key
            else:
                column.values.parse(row[column.key])
        ages = row["perpetrator_age"].split(";")
        assert len(ages) == int(row["perpetrator_count"])
        assert all(a.strip() == "NA" or a.strip() in AGE_BANDS.codes()
                   or 0 < int(a) <= simfoni.MAX_AGE for a in ages)
    case_keys = [c.key for c in VICTIM_COLUMNS[2:10]] + ["channel"]
    for victims in by_case.values():
        assert [v["victim_number"] for v in victims] == [str(n) for n in
                                                          range(1, len(victims) + 1)]
        assert len({tuple(v[k] for k in case_keys) for v in victims}) == 1
    assert any(len(v) > 1 for v in by_case.values()), "the sample shows a case with two victims"


# --- The provider directory ------------------------------------------------------------------

def test_the_provider_directory_has_only_known_kinds_paser_kecamatan_and_no_numbers() -> None:
    kecamatan = {row["kecamatan"] for row in villages().values()}
    with PROVIDERS.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["kind", "name", "kecamatan"]
        rows = [(r["kind"], r["name"], r["kecamatan"]) for r in reader]
    assert rows and len(set(rows)) == len(rows)
    for kind, name, where in rows:
        assert kind in SERVICE_KINDS.codes()
        assert name.strip() == name and name
        assert where == "" or where in kecamatan
        assert not re.search(r"\d{5,}", name + where), "contact numbers belong in config"


def test_every_provider_row_has_its_source_in_the_document_and_no_other_row_is_there() -> None:
    with PROVIDERS.open(encoding="utf-8", newline="") as fh:
        rows = [[r["kind"], r["name"], r["kecamatan"]] for r in csv.DictReader(fh)]
    documented = doc_table(PROVIDERS_DOC, "providers")
    assert [row[:3] for row in documented] == rows
    entries = dict(re.findall(r"^- \*\*(P\d+)\*\* (.*?)(?=^- |^$|^#)", PROVIDERS_DOC.read_text(
        encoding="utf-8"), re.MULTILINE | re.DOTALL))
    for row in documented:
        sources = re.findall(r"P\d+", row[3])
        assert sources, f"{row[1]} has no source"
        for source in sources:
            assert "<https://" in entries.get(source, ""), f"{source} names no address"
