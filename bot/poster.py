"""A poster for every village: an A4 PDF in plain words with the bot's t.me link as a QR code.

It says what the bot is for, that it is safe and secret, how to start (scan or type the link,
press Start, answer a few questions) and the emergency numbers from config (``hotlines``, as the
bot shows them). It names the village and its kecamatan and nothing about the people who work
there: a poster hangs in public. ``ppa-bot poster`` and ``/poster`` (admins) make it.
"""

from __future__ import annotations

import importlib.util
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF

from bot.config import Settings
from bot.i18n import Translate, translator
from bot.regions import Place, RegionDirectory
from models.region import VILLAGE

# A4 in millimetres, and the page's frame.
PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 16.0
WIDTH = PAGE_W - 2 * MARGIN
# Colours: a deep plum for the band, a soft tint for the "safe" box, a red for danger.
PLUM = (74, 38, 104)
TINT = (243, 238, 248)
INK = (33, 33, 33)
GREY = (96, 96, 96)
RED = (176, 30, 36)
WHITE = (255, 255, 255)
QR_SIZE = 68.0  # mm, quiet zone included: scans from an arm's length
FOOTER_TOP = PAGE_H - 12
MIN_ROW = 12.0  # mm for one emergency number and its name
FONT = "DejaVu"


def bot_link(username: str) -> str:
    return f"https://t.me/{username}"


def _font_file(name: str) -> Path:
    """DejaVu Sans, as matplotlib ships it (a dependency): every Latin letter, embedded."""
    spec = importlib.util.find_spec("matplotlib")
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf" / name


@dataclass(frozen=True)
class PosterPlace:
    """What the poster says of where it hangs."""

    code: str
    village: str
    kind: str  # desa | kelurahan
    kecamatan: str

    @classmethod
    def of(cls, regions: RegionDirectory, village: Place) -> PosterPlace:
        kecamatan = regions.get(village.parent_code)
        return cls(village.code, village.name, village.kind or "desa",
                   kecamatan.name if kecamatan else "")


class PosterError(ValueError):
    """No such village: the message names what was asked for."""


def village_named(regions: RegionDirectory, text: str) -> PosterPlace:
    """The village with this Kemendagri code, or the one village this name matches."""
    text = text.strip()
    place = regions.get(text)
    if place is not None and place.level == VILLAGE:
        return PosterPlace.of(regions, place)
    if re.fullmatch(r"[\d.]+", text):
        raise PosterError(f"no village has the code {text}: give a village's Kemendagri code, "
                          "for example 64.01.05.2009, or its name")
    found = [PosterPlace.of(regions, p) for p in regions.search(text, level=VILLAGE, limit=4)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise PosterError(f"no village is called “{text}”: give its name as in the region "
                          "list or its Kemendagri code, for example 64.01.05.2009")
    raise PosterError(f"“{text}” could be several villages: "
                      + "; ".join(f"{p.code} {p.village} ({p.kecamatan})" for p in found)
                      + ". Give the code.")


def all_villages(regions: RegionDirectory) -> Iterator[PosterPlace]:
    for kecamatan in regions.kecamatan():
        for village in regions.villages(kecamatan.code):
            yield PosterPlace.of(regions, village)


def file_name(place: PosterPlace) -> str:
    """``poster-64.01.05.2009-pondong-baru.pdf``: sorts by code, readable, ASCII only."""
    slug = re.sub(r"[^a-z0-9]+", "-", place.village.lower()).strip("-") or "desa"
    return f"poster-{place.code}-{slug}.pdf"


class _Poster(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.add_font(FONT, "", str(_font_file("DejaVuSans.ttf")))
        self.add_font(FONT, "B", str(_font_file("DejaVuSans-Bold.ttf")))

    def text_block(self, x: float, y: float, w: float, text: str, size: float, *,
                   bold: bool = False, colour: tuple[int, int, int] = INK,
                   line: float = 1.3, align: str = "L") -> float:
        """Wrapped text at (x, y) within width w; returns the y below it."""
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*colour)
        self.set_xy(x, y)
        self.multi_cell(w, size * 0.3528 * line, text, align=align, new_x="LMARGIN",
                        new_y="NEXT")
        return self.get_y()

    def height(self, w: float, text: str, size: float, *, bold: bool = False,
               line: float = 1.3) -> float:
        """How tall ``text_block`` would make this text."""
        self.set_font(FONT, "B" if bold else "", size)
        lines = self.multi_cell(w, size * 0.3528 * line, text, dry_run=True, output="LINES")
        assert isinstance(lines, list)
        return float(len(lines)) * size * 0.3528 * line

    def fitted(self, text: str, w: float, size: float, *, bold: bool) -> float:
        """The largest font size up to ``size`` at which ``text`` fits on one line of ``w``."""
        style = "B" if bold else ""
        while size > 6:
            self.set_font(FONT, style, size)
            if self.get_string_width(text) <= w - 2 * self.c_margin:
                break
            size -= 0.5
        return size

    def qr(self, link: str, x: float, y: float, size: float) -> None:
        """The link as a QR code of vector squares (sharp at any print size)."""
        code = segno.make(link, error="m", micro=False)
        matrix = [list(row) for row in code.matrix_iter(scale=1, border=4)]
        module = size / len(matrix)
        self.set_fill_color(*WHITE)
        self.rect(x, y, size, size, style="F")
        self.set_fill_color(0, 0, 0)
        for r, row in enumerate(matrix):
            c = 0
            while c < len(row):
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < len(row) and row[c]:
                    c += 1
                # A hair of overlap so that no white seam shows between squares when printed.
                self.rect(x + start * module, y + r * module, (c - start) * module + 0.02,
                          module + 0.02, style="F")


def _texts(_: Translate, settings: Settings, place: PosterPlace) -> dict[str, str]:
    kind = _("Kelurahan") if place.kind == "kelurahan" else _("Desa")
    return {
        "service": _("Women and Children Protection Service · Kabupaten {kabupaten}").format(
            kabupaten=settings.region.kabupaten_name),
        "title": _("Report violence against women and children"),
        "place": _("{kind} {village} · Kecamatan {kecamatan}").format(
            kind=kind, village=place.village, kecamatan=place.kecamatan)
        if place.kecamatan else f"{kind} {place.village}",
        "lead": _("Have you suffered, seen or heard of violence against a woman or a child? "
                  "Tell us through Telegram. A protection officer will follow it up."),
        "how": _("How to report"),
        "step1": _("Scan the QR code with your phone's camera, or open the link under it."),
        "step2": _("Press Start in Telegram."),
        "step3": _("Answer a few short questions by pressing buttons. You can stop at any "
                   "time."),
        "safe": _("Safe and secret"),
        "safe1": _("You do not have to give your name or phone number."),
        "safe2": _("Your Telegram account is shown to no one."),
        "safe3": _("Only officers and village PAPTBM activists enrolled by the district read "
                   "what you tell."),
        "safe4": _("You can delete the conversation from your phone. The service is free."),
        "danger": _("In danger right now? Call at once:"),
        "footer": _("Kabupaten {kabupaten} · area code {code}").format(
            kabupaten=settings.region.kabupaten_name, code=place.code),
    }


def poster_pdf(settings: Settings, username: str, place: PosterPlace,
               language: str = "id") -> bytes:
    """One A4 poster for ``place``."""
    t = _texts(translator(language), settings, place)
    link = bot_link(username)
    pdf = _Poster()
    pdf.set_title(t["title"])
    pdf.set_subject(t["place"])
    pdf.add_page()

    # The band: who runs it, what it is for, where it hangs.
    band = 60.0
    pdf.set_fill_color(*PLUM)
    pdf.rect(0, 0, PAGE_W, band, style="F")
    y = pdf.text_block(MARGIN, 11, WIDTH, t["service"], 11, colour=(222, 206, 238))
    y = pdf.text_block(MARGIN, y + 2.5, WIDTH, t["title"], 26, bold=True, colour=WHITE,
                       line=1.15)
    size = pdf.fitted(t["place"], WIDTH, 15, bold=False)
    pdf.text_block(MARGIN, max(y + 3, band - 13), WIDTH, t["place"], size,
                   colour=(236, 228, 244))

    y = pdf.text_block(MARGIN, band + 7, WIDTH, t["lead"], 14.5, line=1.35)

    # The QR code with the link under it, and how to start beside it.
    top = y + 6
    pdf.set_draw_color(*PLUM)
    pdf.set_line_width(0.6)
    pdf.rect(MARGIN, top, QR_SIZE, QR_SIZE, style="D")
    pdf.qr(link, MARGIN + 0.8, top + 0.8, QR_SIZE - 1.6)
    size = pdf.fitted(link, QR_SIZE + 9, 13, bold=True)  # a long username: smaller, one line
    pdf.text_block(MARGIN - 4.5, top + QR_SIZE + 3, QR_SIZE + 9, link, size, bold=True,
                   colour=PLUM, align="C")

    x = MARGIN + QR_SIZE + 10
    w = PAGE_W - MARGIN - x
    y = pdf.text_block(x, top, w, t["how"], 18, bold=True, colour=PLUM)
    for number, key in enumerate(("step1", "step2", "step3"), start=1):
        pdf.set_fill_color(*PLUM)
        pdf.ellipse(x, y + 3.2, 8, 8, style="F")
        pdf.text_block(x, y + 4.3, 8, str(number), 12, bold=True, colour=WHITE, align="C")
        y = pdf.text_block(x + 11, y + 3, w - 11, t[key], 13, line=1.3) + 1.5

    # Safe and secret: a tinted box as tall as its lines, each after a bullet.
    top = max(y, top + QR_SIZE + 10) + 6
    lines = [t[k] for k in ("safe1", "safe2", "safe3", "safe4")]
    inner = WIDTH - 12 - 5
    height = 14 + sum(pdf.height(inner, text, 12.5) + 1 for text in lines)
    pdf.set_fill_color(*TINT)
    pdf.rect(MARGIN, top, WIDTH, height, style="F")
    y = pdf.text_block(MARGIN + 6, top + 4.5, WIDTH - 12, t["safe"], 15, bold=True, colour=PLUM)
    for text in lines:
        pdf.text_block(MARGIN + 6, y + 1, 5, "•", 12.5, colour=PLUM)
        y = pdf.text_block(MARGIN + 11, y + 1, inner, text, 12.5)

    # Emergency numbers, the number first and large, in as many rows as fit above the footer.
    top = top + height + 6
    count = len(settings.hotlines)
    room = FOOTER_TOP - 4 - top - 16
    columns = 2 if room / max(1, -(-count // 2)) >= MIN_ROW else 3
    rows = max(1, -(-count // columns))
    row = min(15.0, room / rows)
    pdf.set_draw_color(*RED)
    pdf.set_line_width(1.0)
    pdf.rect(MARGIN, top, WIDTH, 16 + row * rows, style="D")
    pdf.text_block(MARGIN + 6, top + 5, WIDTH - 12, t["danger"], 15, bold=True, colour=RED)
    cell = (WIDTH - 12) / columns
    for index, hotline in enumerate(settings.hotlines):
        cx = MARGIN + 6 + (index % columns) * cell
        cy = top + 15 + (index // columns) * row
        size = pdf.fitted(hotline.number, cell - 4, min(20.0, row * 1.35), bold=True)
        pdf.text_block(cx, cy, cell - 4, hotline.number, size, bold=True, colour=INK, line=1.1)
        size = pdf.fitted(hotline.name, cell - 4, min(11.0, row * 0.75), bold=False)
        pdf.text_block(cx, cy + row * 0.53, cell - 4, hotline.name, size, colour=GREY, line=1.1)

    pdf.text_block(MARGIN, FOOTER_TOP, WIDTH, t["footer"], 9, colour=GREY, align="C")
    return bytes(pdf.output())


def posters_zip(settings: Settings, username: str, regions: RegionDirectory,
                language: str = "id") -> tuple[bytes, int]:
    """One PDF per village in a zip, in folders per kecamatan; and how many."""
    buffer = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for place in all_villages(regions):
            folder = re.sub(r"[^a-z0-9]+", "-", place.kecamatan.lower()).strip("-") or "lain"
            archive.writestr(f"{folder}/{file_name(place)}",
                             poster_pdf(settings, username, place, language))
            count += 1
    return buffer.getvalue(), count
