"""A chat drawn as a phone shows it, with Pillow: the bot's messages with their inline buttons, the
person's own messages on the right, names in a group, a pop-up after a press, a reply keyboard.
Texts sent as HTML are drawn as Telegram shows them: <b> bold, <i> italic, <code> in a fixed
font, <blockquote> with a bar, commands and links in blue.

It draws what it is given and nothing else: the screens come from the bot's real messages
(``tests/screenshots.py`` takes them from the test transcripts).

Fonts: DejaVu Sans, which matplotlib ships (the same drawing on every machine); emoji in colour
from Noto Color Emoji when the system has it (Debian: ``apt-get install fonts-noto-color-emoji``),
else as DejaVu draws them, else as a small grey square.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import matplotlib
from matplotlib import ft2font
from PIL import Image, ImageDraw, ImageFont

SCALE = 2  # pixels per point: sharp on a phone-sized picture
WIDTH = 420  # points, about a phone's width
FONT_SIZE = 15
SMALL = 11.5
LINE = 1.38  # line height, in font sizes
PAD = 9  # inside a bubble
BUBBLE_MAX = 0.80  # of the width
BUTTON_HEIGHT = 34
HEADER = 54

BACKGROUND = (207, 219, 226)
BOT_BUBBLE = (255, 255, 255)
MY_BUBBLE = (222, 246, 200)
TEXT = (20, 24, 28)
MUTED = (128, 140, 150)
MY_MUTED = (95, 150, 90)
LINK = (36, 129, 204)
BUTTON = (94, 121, 140)
CODE_BACKGROUND = (238, 241, 244)
NAMES = [(36, 129, 204), (204, 88, 60), (60, 150, 80), (150, 80, 190), (210, 130, 20),
         (30, 150, 160)]

EMOJI_FONTS = (
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/google-noto-emoji/NotoColorEmoji.ttf",
    "/usr/share/fonts/noto-emoji/NotoColorEmoji.ttf",
)
EMOJI_STRIKE = 109  # the size of the bitmaps in Noto Color Emoji
VS16, ZWJ = "\ufe0f", "\u200d"


# --- what to draw --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bubble:
    """One message as it stands in the chat."""

    text: str
    html: bool = False  # sent with parse_mode HTML
    mine: bool = False  # written by the person whose phone this is: on the right
    sender: str = ""  # the name drawn above it in a group ("" in a private chat)
    time: str = ""
    edited: bool = False
    buttons: tuple[tuple[str, ...], ...] = ()  # inline keyboard rows
    media: str = ""  # "🖼 Foto", "📄 visum.pdf", ...: drawn as a box above the caption
    quote: tuple[str, str] | None = None  # (name, first line) of the message it replies to


@dataclass(frozen=True)
class Screen:
    title: str
    subtitle: str
    bubbles: tuple[Bubble, ...]
    day: str = ""  # a date chip above the first message
    keyboard: tuple[tuple[str, ...], ...] = ()  # a reply keyboard under the chat
    popup: str = ""  # what the bot answered to a press (a pop-up over the chat)


# --- fonts ---------------------------------------------------------------------------------------

def _px(points: float) -> int:
    return round(points * SCALE)


@cache
def _font(style: str, size: float) -> ImageFont.FreeTypeFont:
    names = {"": "DejaVuSans.ttf", "b": "DejaVuSans-Bold.ttf", "i": "DejaVuSans-Oblique.ttf",
             "bi": "DejaVuSans-BoldOblique.ttf", "code": "DejaVuSansMono.ttf",
             "bcode": "DejaVuSansMono-Bold.ttf"}
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / names[style]
    return ImageFont.truetype(str(path), _px(size), layout_engine=ImageFont.Layout.BASIC)


@cache
def _text_charmap() -> frozenset[int]:
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return frozenset(ft2font.FT2Font(str(path)).get_charmap())


@cache
def _emoji_font() -> tuple[ImageFont.FreeTypeFont, frozenset[int]] | None:
    for candidate in EMOJI_FONTS:
        if Path(candidate).exists():
            try:
                font = ImageFont.truetype(candidate, EMOJI_STRIKE)
                charmap = frozenset(ft2font.FT2Font(candidate).get_charmap())
            except OSError:
                continue
            return font, charmap
    return None


def emoji_in_colour() -> bool:
    return _emoji_font() is not None


# --- text: HTML into styled runs, runs into pieces, pieces into lines ----------------------------

@dataclass
class _Run:
    text: str
    style: frozenset[str]


@dataclass
class _Block:
    runs: list[_Run] = field(default_factory=list)
    quote: bool = False


class _Html(HTMLParser):
    """Telegram's HTML subset: b/strong, i/em, u, s, code/pre, a, blockquote, tg-spoiler."""

    STYLES: ClassVar[dict[str, str]] = {
        "b": "b", "strong": "b", "i": "i", "em": "i", "code": "code", "pre": "code",
        "a": "link", "u": "", "ins": "", "s": "", "strike": "", "del": "", "tg-spoiler": "",
        "span": ""}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks = [_Block()]
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "blockquote":
            self.blocks.append(_Block(quote=True))
        elif tag in self.STYLES:
            self.open.append(self.STYLES[tag])

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self.blocks.append(_Block())
        elif tag in self.STYLES and self.STYLES[tag] in self.open:
            self.open.reverse()
            self.open.remove(self.STYLES[tag])
            self.open.reverse()

    def handle_data(self, data: str) -> None:
        self.blocks[-1].runs.append(_Run(data, frozenset(s for s in self.open if s)))


def _blocks(text: str, html: bool) -> list[_Block]:
    if not html:
        return [_Block([_Run(text, frozenset())])]
    parser = _Html()
    parser.feed(text)
    parser.close()
    blocks = []
    for block in parser.blocks:
        # A blockquote's own line breaks around it are the block's edges, not empty lines.
        joined = "".join(r.text for r in block.runs)
        if not joined.strip("\n"):
            continue
        if block.runs:
            block.runs[0].text = block.runs[0].text.lstrip("\n")
            block.runs[-1].text = block.runs[-1].text.rstrip("\n")
        blocks.append(block)
    return blocks or [_Block()]


# What Telegram shows as links in any message: commands, addresses, @usernames.
_AUTOLINK = re.compile(r"(?<![\w/])/[A-Za-z][A-Za-z0-9_]*(?:@\w+)?|https?://\S+|(?<!\w)@\w{4,}")


def _linked(run: _Run) -> list[_Run]:
    if "code" in run.style or "link" in run.style:
        return [run]
    out, at = [], 0
    for match in _AUTOLINK.finditer(run.text):
        if match.start() > at:
            out.append(_Run(run.text[at:match.start()], run.style))
        out.append(_Run(match.group(0), run.style | {"link"}))
        at = match.end()
    if at < len(run.text):
        out.append(_Run(run.text[at:], run.style))
    return out


@dataclass
class _Piece:
    """Something drawn in one go: a word, a space, or one emoji."""

    text: str
    style: frozenset[str]
    emoji: bool = False

    @property
    def space(self) -> bool:
        return not self.emoji and self.text.isspace()


def _font_of(style: frozenset[str], size: float = FONT_SIZE) -> ImageFont.FreeTypeFont:
    if "code" in style:
        return _font("bcode" if "b" in style else "code", size * 0.93)
    key = ("b" if "b" in style else "") + ("i" if "i" in style else "")
    return _font(key, size)


def _clusters(text: str) -> list[tuple[str, bool]]:
    """Split into (text, is_emoji): an emoji with its variation selector, skin tone and
    zero-width joins, or a pair of regional indicators (a flag), is one cluster."""
    emoji = _emoji_font()
    text_chars = _text_charmap()
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        code = ord(ch)
        end = i + 1
        if 0x1F1E6 <= code <= 0x1F1FF and end < len(text) and 0x1F1E6 <= ord(text[end]) <= 0x1F1FF:
            end += 1
        while end < len(text) and (text[end] == VS16 or 0x1F3FB <= ord(text[end]) <= 0x1F3FF
                                   or (text[end] == ZWJ and end + 1 < len(text))):
            end += 2 if text[end] == ZWJ else 1
        cluster = text[i:end]
        in_text_font = code in text_chars
        if emoji is not None:
            is_emoji = code in emoji[1] and (VS16 in cluster or not in_text_font)
        else:  # no colour font: DejaVu draws what it has, a grey square stands for the rest
            is_emoji = not in_text_font and unicodedata.category(ch) == "So"
        if not is_emoji:
            cluster = cluster.replace(VS16, "")
        if out and not is_emoji and not out[-1][1]:
            out[-1] = (out[-1][0] + cluster, False)
        elif cluster:
            out.append((cluster, is_emoji))
        i = end
    return out


def _pieces(runs: list[_Run]) -> list[_Piece]:
    pieces: list[_Piece] = []
    for run in (linked for r in runs for linked in _linked(r)):
        for chunk, is_emoji in _clusters(run.text):
            if is_emoji:
                pieces.append(_Piece(chunk, run.style, emoji=True))
                continue
            for token in re.findall(r"\n|[^\S\n]+|[^\s]+", chunk):
                pieces.append(_Piece(token, run.style))
    return pieces


def _width(piece: _Piece, size: float = FONT_SIZE) -> float:
    if piece.emoji:
        return _px(size * 1.22)
    return _font_of(piece.style, size).getlength(piece.text)


def _wrap(pieces: list[_Piece], width: float, size: float = FONT_SIZE) -> list[list[_Piece]]:
    lines: list[list[_Piece]] = [[]]
    used = 0.0
    for piece in pieces:
        if piece.text == "\n" and not piece.emoji:
            lines.append([])
            used = 0.0
            continue
        w = _width(piece, size)
        if piece.space:
            if lines[-1]:
                lines[-1].append(piece)
                used += w
            continue
        if used + w > width and lines[-1]:
            # A word in two styles ("<b>Terima</b>,") moves to the next line whole.
            line = lines[-1]
            start = max((i + 1 for i, p in enumerate(line) if p.space), default=0)
            carried = line[start:] if 0 < start < len(line) else []
            del line[len(line) - len(carried):]
            while line and line[-1].space:
                line.pop()
            lines.append(carried)
            used = sum(_width(p, size) for p in carried)
        while w > width and not piece.emoji:  # a word longer than the line: cut it
            font = _font_of(piece.style, size)
            cut = len(piece.text)
            while cut > 1 and font.getlength(piece.text[:cut]) > width - used:
                cut -= 1
            lines[-1].append(_Piece(piece.text[:cut], piece.style))
            lines.append([])
            used = 0.0
            piece = _Piece(piece.text[cut:], piece.style)
            w = _width(piece, size)
        lines[-1].append(piece)
        used += w
    for line in lines:
        while line and line[-1].space:
            line.pop()
    return lines


def _line_width(line: list[_Piece], size: float = FONT_SIZE) -> float:
    return sum(_width(p, size) for p in line)


@cache
def _emoji_image(cluster: str, height: int) -> Image.Image | None:
    found = _emoji_font()
    if found is None:
        return None
    font, charmap = found
    if ord(cluster[0]) not in charmap:
        return None
    canvas = Image.new("RGBA", (EMOJI_STRIKE * 3, EMOJI_STRIKE * 2), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((0, 0), cluster, font=font, embedded_color=True)
    box = canvas.getbbox()
    if box is None:
        return None
    glyph = canvas.crop((0, 0, box[2], max(box[3], EMOJI_STRIKE)))
    ratio = height / glyph.height
    return glyph.resize((max(1, round(glyph.width * ratio)), height), Image.Resampling.LANCZOS)


def _draw_line(image: Image.Image, line: list[_Piece], x: float, y: float, colour: tuple[int, ...],
               size: float = FONT_SIZE) -> None:
    draw = ImageDraw.Draw(image)
    ascent = _font("", size).getmetrics()[0]
    placed = []
    for piece in line:
        placed.append((piece, x, _width(piece, size)))
        x += placed[-1][2]
    # Code is set on one light box per run of code, spaces included.
    start: float | None = None
    for index, (piece, px, w) in enumerate(placed):
        if "code" in piece.style and start is None:
            start = px
        last = index == len(placed) - 1 or "code" not in placed[index + 1][0].style
        if start is not None and last:
            draw.rounded_rectangle((start - 2, y + _px(1), px + w + 2, y + _px(size * 1.22)),
                                   radius=_px(3), fill=CODE_BACKGROUND)
            start = None
    for piece, px, w in placed:
        if piece.emoji:
            glyph = _emoji_image(piece.text, _px(size * 1.12))
            if glyph is not None:
                image.alpha_composite(glyph, (round(px + (w - glyph.width) / 2),
                                              round(y + ascent - glyph.height * 0.86)))
            else:
                side = _px(size * 0.8)
                top = y + ascent - side
                draw.rounded_rectangle((px + 2, top, px + 2 + side, top + side), radius=_px(2),
                                       fill=(200, 205, 210))
        elif not piece.space:
            font = _font_of(piece.style, size)
            fill = LINK if "link" in piece.style else colour
            offset = ascent - font.getmetrics()[0]
            draw.text((px, y + offset), piece.text, font=font, fill=fill)


# --- bubbles -------------------------------------------------------------------------------------

@dataclass
class _Laid:
    bubble: Bubble
    blocks: list[tuple[bool, list[list[_Piece]]]]  # (is quote, lines)
    width: float  # of the bubble
    height: float  # of the bubble, without the buttons
    meta: str
    meta_inline: bool
    name: bool  # the sender's name above the text (the first of a run of messages)
    avatar: bool  # the sender's picture beside it (the last of a run)


def _meta(bubble: Bubble) -> str:
    return ("diedit " if bubble.edited else "") + bubble.time + (" ✓✓" if bubble.mine else "")


def _lay_out(bubble: Bubble, *, name: bool = True, avatar: bool = True) -> _Laid:
    inner_max = _px(WIDTH * BUBBLE_MAX) - 2 * _px(PAD)
    line_h = _px(FONT_SIZE * LINE)
    quote_indent = _px(10)
    blocks: list[tuple[bool, list[list[_Piece]]]] = []
    widest = 0.0
    for block in _blocks(bubble.text, bubble.html):
        room = inner_max - (quote_indent if block.quote else 0)
        lines = _wrap(_pieces(block.runs), room)
        blocks.append((block.quote, lines))
        for line in lines:
            widest = max(widest, _line_width(line) + (quote_indent if block.quote else 0))
    meta = _meta(bubble)
    meta_w = _font("", SMALL).getlength(meta) + _px(8)
    last_w = _line_width(blocks[-1][1][-1]) if blocks and blocks[-1][1] else 0.0
    meta_inline = bool(bubble.text) and last_w + meta_w <= inner_max and not blocks[-1][0]
    inner = max(widest, last_w + meta_w if meta_inline else meta_w)
    name = name and bool(bubble.sender)
    if name:
        inner = max(inner, _font("b", FONT_SIZE * 0.93).getlength(bubble.sender))
    if bubble.quote:
        quoted = max(_font("b", SMALL).getlength(bubble.quote[0]),
                     _line_width(_pieces([_Run(bubble.quote[1], frozenset())]), SMALL))
        inner = max(inner, min(inner_max, quoted + _px(14)))
    if bubble.media:
        inner = max(inner, _px(220))
    if bubble.buttons:  # the keyboard is as wide as the bubble: room for its labels
        for row in bubble.buttons:
            need = max(_line_width(_wrap(_pieces([_Run(t, frozenset({"b"}))]), 10_000,
                                         FONT_SIZE * 0.9)[0], FONT_SIZE * 0.9) for t in row)
            inner = max(inner, min(inner_max, len(row) * (need + _px(16)) - 2 * _px(PAD)))
    height = _px(PAD) * 2
    if name:
        height += _px(FONT_SIZE * 1.3)
    if bubble.quote:
        height += _px(SMALL * 3.1) + _px(4)
    if bubble.media:
        height += _px(120) + (_px(6) if bubble.text else 0)
    for index, (quote, lines) in enumerate(blocks):
        height += len(lines) * line_h + (_px(4) if quote else 0)
        if index:
            height += _px(4)
    if not bubble.text:
        height -= _px(PAD) // 2
    if not meta_inline:
        height += _px(SMALL * 1.5)
    return _Laid(bubble, blocks, inner + 2 * _px(PAD), height, meta, meta_inline, name,
                 avatar and bool(bubble.sender))


def _buttons_height(bubble: Bubble) -> int:
    return len(bubble.buttons) * (_px(BUTTON_HEIGHT) + _px(4)) + (_px(2) if bubble.buttons else 0)


def _colour_of(name: str) -> tuple[int, int, int]:
    return NAMES[sum(map(ord, name)) % len(NAMES)]


def _draw_bubble(image: Image.Image, laid: _Laid, top: float) -> float:
    draw = ImageDraw.Draw(image)
    bubble = laid.bubble
    margin = _px(10)
    left = image.width - margin - laid.width if bubble.mine else margin
    if bubble.sender and not bubble.mine:
        left += _px(34)  # room for the sender's round picture
    right = left + laid.width
    fill = MY_BUBBLE if bubble.mine else BOT_BUBBLE
    draw.rounded_rectangle((left, top, right, top + laid.height), radius=_px(14), fill=fill)
    if laid.avatar and not bubble.mine:
        _avatar(image, bubble.sender, margin, top + laid.height - _px(30), _px(30))
    x = left + _px(PAD)
    y = top + _px(PAD)
    line_h = _px(FONT_SIZE * LINE)
    if laid.name:
        draw.text((x, y), bubble.sender, font=_font("b", FONT_SIZE * 0.93),
                  fill=_colour_of(bubble.sender))
        y += _px(FONT_SIZE * 1.3)
    if bubble.quote:
        name, first = bubble.quote
        height = _px(SMALL * 3.1)
        accent = _colour_of(name)
        draw.rounded_rectangle((x, y, right - _px(PAD), y + height), radius=_px(5),
                               fill=tuple(round(c * 0.12 + 255 * 0.88) for c in accent))
        draw.rectangle((x, y, x + _px(3), y + height), fill=accent)
        draw.text((x + _px(8), y + _px(3)), name, font=_font("b", SMALL), fill=accent)
        room = right - _px(PAD) - x - _px(14)
        lines = _wrap(_pieces([_Run(first, frozenset())]), room - _px(SMALL), SMALL)
        shown = lines[0] + ([_Piece("…", frozenset())] if len(lines) > 1 else [])
        _draw_line(image, shown, x + _px(8), y + _px(SMALL * 1.55), TEXT, SMALL)
        y += height + _px(4)
    if bubble.media:
        box = (x, y, right - _px(PAD), y + _px(120))
        draw.rounded_rectangle(box, radius=_px(8), fill=(176, 190, 200))
        label = _wrap(_pieces([_Run(bubble.media, frozenset())]), box[2] - box[0])[0]
        lw = _line_width(label)
        _draw_line(image, label, (box[0] + box[2] - lw) / 2, (box[1] + box[3]) / 2 - _px(10),
                   (255, 255, 255))
        y += _px(120) + (_px(6) if bubble.text else 0)
    for index, (quote, lines) in enumerate(laid.blocks):
        if index:
            y += _px(4)
        if quote:
            draw.rectangle((x, y, x + _px(3), y + len(lines) * line_h), fill=LINK)
        for line in lines:
            _draw_line(image, line, x + (_px(10) if quote else 0), y, TEXT)
            y += line_h
        if quote:
            y += _px(4)
    small = _font("", SMALL)
    meta_w = small.getlength(laid.meta)
    meta_y = top + laid.height - _px(PAD) - _px(SMALL * 1.25)
    draw.text((right - _px(PAD) - meta_w, meta_y), laid.meta, font=small,
              fill=MY_MUTED if bubble.mine else MUTED)
    bottom = top + laid.height
    if bubble.buttons:
        bottom += _px(4)
        for row in bubble.buttons:
            gap = _px(4)
            w = (laid.width - gap * (len(row) - 1)) / len(row)
            for i, label in enumerate(row):
                bx = left + i * (w + gap)
                draw.rounded_rectangle((bx, bottom, bx + w, bottom + _px(BUTTON_HEIGHT)),
                                       radius=_px(9), fill=BUTTON)
                size = FONT_SIZE * 0.9
                line = _wrap(_pieces([_Run(label, frozenset({"b"}))]), w - _px(8), size)[0]
                lw = _line_width(line, size)
                _draw_line(image, line, bx + (w - lw) / 2,
                           bottom + (_px(BUTTON_HEIGHT) - _px(size * 1.25)) / 2,
                           (255, 255, 255), size)
            bottom += _px(BUTTON_HEIGHT) + gap
    return bottom


def _avatar(image: Image.Image, name: str, x: float, y: float, side: int) -> None:
    draw = ImageDraw.Draw(image)
    draw.ellipse((x, y, x + side, y + side), fill=_colour_of(name))
    initials = "".join(w[0] for w in re.findall(r"[A-Za-z]\w*", name)[:2]).upper() or "?"
    font = _font("b", side / SCALE * 0.4)
    w = font.getlength(initials)
    draw.text((x + (side - w) / 2, y + side / 2 - font.getmetrics()[0] * 0.55), initials,
              font=font, fill=(255, 255, 255))


# --- the screen ----------------------------------------------------------------------------------

def draw(screen: Screen) -> Image.Image:
    """The whole screen: header, date chip, bubbles, then a reply keyboard or a pop-up."""
    bubbles = screen.bubbles
    laid = [_lay_out(b, name=i == 0 or bubbles[i - 1].sender != b.sender,
                     avatar=i == len(bubbles) - 1 or bubbles[i + 1].sender != b.sender)
            for i, b in enumerate(bubbles)]
    gap = _px(6)
    height = _px(HEADER) + _px(12)
    if screen.day:
        height += _px(32)
    height += sum(item.height + _buttons_height(item.bubble) + gap for item in laid) + _px(8)
    keyboard_h = 0
    if screen.keyboard:
        keyboard_h = len(screen.keyboard) * _px(46) + _px(12)
    height += keyboard_h
    popup_h = _popup_height(image_width=_px(WIDTH), text=screen.popup) if screen.popup else 0
    height += popup_h
    image = Image.new("RGBA", (_px(WIDTH), int(height)), (*BACKGROUND, 255))
    draw_ = ImageDraw.Draw(image)

    # Header: back arrow, picture, title, subtitle.
    draw_.rectangle((0, 0, image.width, _px(HEADER)), fill=(255, 255, 255))
    draw_.line((0, _px(HEADER), image.width, _px(HEADER)), fill=(210, 215, 220), width=_px(1))
    draw_.text((_px(12), _px(HEADER / 2 - 14)), "‹", font=_font("", 26), fill=LINK)
    _avatar(image, screen.title, _px(36), _px(HEADER / 2 - 18), _px(36))
    draw_.text((_px(82), _px(9)), screen.title, font=_font("b", FONT_SIZE * 1.05), fill=TEXT)
    draw_.text((_px(82), _px(30)), screen.subtitle, font=_font("", SMALL * 1.1), fill=MUTED)

    y = float(_px(HEADER) + _px(12))
    if screen.day:
        font = _font("b", SMALL)
        w = font.getlength(screen.day) + _px(20)
        x = (image.width - w) / 2
        draw_.rounded_rectangle((x, y, x + w, y + _px(22)), radius=_px(11), fill=(150, 170, 184))
        draw_.text((x + _px(10), y + _px(4)), screen.day, font=font, fill=(255, 255, 255))
        y += _px(32)
    for item in laid:
        y = _draw_bubble(image, item, y) + gap

    if screen.keyboard:
        top = image.height - keyboard_h - popup_h
        draw_.rectangle((0, top, image.width, image.height), fill=(236, 239, 242))
        row_y = top + _px(8)
        for row in screen.keyboard:
            w = (image.width - _px(16) - _px(6) * (len(row) - 1)) / len(row)
            for i, label in enumerate(row):
                x = _px(8) + i * (w + _px(6))
                draw_.rounded_rectangle((x, row_y, x + w, row_y + _px(40)), radius=_px(7),
                                        fill=(255, 255, 255))
                line = _wrap(_pieces([_Run(label, frozenset())]), w - _px(8))[0]
                lw = _line_width(line)
                _draw_line(image, line, x + (w - lw) / 2, row_y + _px(10), TEXT)
            row_y += _px(46)

    if screen.popup:
        _popup(image, screen.popup)
    return image.convert("RGB")


def _popup_lines(image_width: int, text: str) -> list[list[_Piece]]:
    return _wrap(_pieces([_Run(text, frozenset())]), image_width - _px(80))


def _popup_height(image_width: int, text: str) -> int:
    return len(_popup_lines(image_width, text)) * _px(FONT_SIZE * LINE) + _px(22 + 24)


def _popup(image: Image.Image, text: str) -> None:
    """The short notice Telegram shows after a button press, at the foot of the screen."""
    lines = _popup_lines(image.width, text)
    line_h = _px(FONT_SIZE * LINE)
    width = max(_line_width(line) for line in lines) + _px(28)
    height = len(lines) * line_h + _px(22)
    x = (image.width - width) / 2
    y = image.height - height - _px(12)
    ImageDraw.Draw(image).rounded_rectangle((x, y, x + width, y + height), radius=_px(12),
                                            fill=(44, 52, 60))
    for i, line in enumerate(lines):
        _draw_line(image, line, x + _px(14), y + _px(11) + i * line_h, (255, 255, 255))


def save(screen: Screen, path: Path) -> Path:
    """Write the screen as a PNG of 128 colours (a third of the bytes, no visible loss)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = draw(screen).quantize(colors=128, method=Image.Quantize.MEDIANCUT,
                                  dither=Image.Dither.NONE)
    image.save(path, optimize=True)
    return path
