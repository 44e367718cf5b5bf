"""What a salon prints for a checkout point (F5): its QR code as PNG (colour, black and
white), as SVG, and a poster (PDF, A5 or A4) that says in three languages what to do.

The code holds ``<public root>/q/<code>`` and nothing else (no appointment, no amount), so
a print stays good for as long as the point keeps its code.

Print quality, whatever the format:
- error correction H (about 30% of the code words can be lost): a sticker at a till gets
  creased, scratched, splashed and photographed at an angle under glare; the address is
  short, so H costs only a slightly denser code;
- the quiet zone of 4 modules (the standard's minimum) is part of every picture, so that
  whatever is printed around the code cannot be read as part of it;
- a PNG is 6 cm wide at 300 dpi or more: 6 cm = 6 / 2.54 in, × 300 dots = 708.7, so at
  least 709 pixels including the quiet zone. Modules are a whole number of pixels (a
  fractional module blurs at its edges), so the PNG is the smallest multiple of the symbol's
  width at or above 709 pixels, and its dpi is set so that it prints 6 cm wide;
- SVG and the posters are vectors: they stay sharp at any size.
"""

import io
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.drawing import PaintedPath
from fpdf.enums import PathPaintRule

from navbat.kit.urls import public_root

QUIET_ZONE = 4  # modules
ERROR = "h"
CODE_CM = 6
MIN_DPI = 300
MIN_PIXELS = math.ceil(CODE_CM / 2.54 * MIN_DPI)  # 709

INK = "#1d2430"  # the pages' ink
BRAND = "#7000ff"  # the pages' brand colour: the finder patterns of the colour code

# fpdf2 subsets the font of every poster through fontTools, which logs each step at INFO:
# some sixty lines a download in the server's log, none of them news.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"

# The poster speaks to every client at once, so these are written in their own languages
# rather than translated into the page's one.
SCAN_TO_PAY = (
    ("uz", "Toʻlash uchun skanerlang"),
    ("ru", "Отсканируйте для оплаты"),
    ("en", "Scan to pay"),
)
CARDS_WORD = "Kartalar · Карты · Cards"
APP_LINE = "{app} ilovasi · приложение {app} · {app} app"

# A4's measures; an A5 poster is the same drawing scaled down (A5 is A4 / √2).
PAGES = {"a4": (210.0, 297.0), "a5": (148.0, 210.0)}
QR_WIDTH_MM = {"a4": 120.0, "a5": 85.0}


def qr_url(code: str) -> str:
    """What a point's printed QR holds. Built on the public root and this fixed path, not
    on a URL name: a printed code must keep working whatever the URL map becomes."""
    return f"{public_root()}/q/{code}"


def make_qr(code: str) -> segno.QRCode:
    return segno.make_qr(qr_url(code), error=ERROR, boost_error=False)


def modules(qr: segno.QRCode) -> int:
    """The symbol's width in modules, quiet zone included."""
    return qr.symbol_size(scale=1, border=QUIET_ZONE)[0]


def png_scale(qr: segno.QRCode) -> int:
    return math.ceil(MIN_PIXELS / modules(qr))


def png_dpi(qr: segno.QRCode) -> int:
    """The dpi at which the PNG prints ``CODE_CM`` wide, in whole dots as the PNG keeps
    it, rounded down: never narrower, at most 1/300 wider."""
    return int(modules(qr) * png_scale(qr) * 2.54 / CODE_CM)


def png(code: str, *, colour: bool) -> bytes:
    qr = make_qr(code)
    out = io.BytesIO()
    colours = {"dark": INK, "finder_dark": BRAND} if colour else {"dark": "#000"}
    qr.save(
        out,
        kind="png",
        scale=png_scale(qr),
        border=QUIET_ZONE,
        light="#fff",
        dpi=png_dpi(qr),
        **colours,
    )
    return out.getvalue()


def svg(code: str) -> bytes:
    """A vector code ``CODE_CM`` wide (width and height in millimetres)."""
    qr = make_qr(code)
    out = io.BytesIO()
    qr.save(
        out,
        kind="svg",
        scale=CODE_CM * 10 / modules(qr),
        unit="mm",
        border=QUIET_ZONE,
        dark="#000",
        light="#fff",
        title=qr_url(code),
    )
    return out.getvalue()


def preview_svg(code: str) -> str:
    """The code drawn into the page itself (2 px a module): the list shows every point's
    code without a request per picture."""
    return make_qr(code).svg_inline(scale=2, border=QUIET_ZONE, dark="#000", light="#fff")


@dataclass(frozen=True)
class PosterText:
    salon: str
    point: str  # "<location> · <point>"
    cards: tuple[str, ...] = ()  # the cards the provider takes, "" when none is connected
    app_name: str = ""


def _qr_path(qr: segno.QRCode, *, x: float, y: float, width: float) -> PaintedPath:
    """The dark modules as one filled path: one fill has no seams between modules, and each
    row's run of dark modules is one rectangle."""
    size = width / modules(qr)
    path = PaintedPath()
    path.style.fill_color = "#000000"
    path.style.paint_rule = PathPaintRule.FILL_NONZERO
    for row_index, row in enumerate(qr.matrix_iter(scale=1, border=QUIET_ZONE)):
        column = 0
        values = list(row)
        while column < len(values):
            if not values[column]:
                column += 1
                continue
            start = column
            while column < len(values) and values[column]:
                column += 1
            path.rectangle(x + start * size, y + row_index * size, (column - start) * size, size)
    return path


def poster(code: str, *, text: PosterText, size: str) -> bytes:
    """A printable poster with the code as vectors; ``size`` is "a4" or "a5"."""
    page_width, page_height = PAGES[size]
    k = page_width / PAGES["a4"][0]  # the A4 drawing's scale on this page
    pdf = FPDF(unit="mm", format=(page_width, page_height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(15 * k, 15 * k)
    pdf.set_title(f"{text.salon} — {text.point}")
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    inner = page_width - 30 * k

    # A frame to cut along, well outside the code's quiet zone.
    pdf.set_draw_color(BRAND)
    pdf.set_line_width(0.8 * k)
    pdf.rect(
        8 * k,
        8 * k,
        page_width - 16 * k,
        page_height - 16 * k,
        round_corners=True,
        corner_radius=6 * k,
    )

    def lines(value: str, *, points: float, bold=False, colour=INK, gap=1.0, most=1):
        """``value`` centred in at most ``most`` lines: a long name gets a smaller type (down
        to 40%), so that whatever the salon is called the code keeps its place and size."""
        size = points
        while True:
            pdf.set_font(FONT, "B" if bold else "", size * k)
            fits = pdf.multi_cell(inner, size * k * 0.45, value, dry_run=True, output="LINES")
            if len(fits) <= most or size <= points * 0.4:
                break
            size -= 1
        pdf.set_text_color(colour)
        pdf.multi_cell(inner, size * k * 0.45, value, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap * k)

    pdf.set_y(24 * k)
    lines(text.salon, points=28, bold=True, gap=2, most=2)
    lines(text.point, points=15, colour="#667085", gap=6, most=2)
    for _language, words in SCAN_TO_PAY:
        lines(words, points=22, bold=True, colour=BRAND, gap=1.5)

    qr = make_qr(code)
    width = QR_WIDTH_MM[size]
    qr_y = pdf.get_y() + 5 * k
    with pdf.drawing_context() as context:
        context.add_item(_qr_path(qr, x=(page_width - width) / 2, y=qr_y, width=width))
    pdf.set_y(qr_y + width + 6 * k)

    if text.cards:
        lines(CARDS_WORD, points=11, colour="#667085", gap=0.5)
        lines(" · ".join(text.cards), points=15, bold=True, gap=4)
    if text.app_name:
        lines(APP_LINE.format(app=text.app_name), points=13, bold=True, gap=4)
    pdf.set_y(page_height - 20 * k)
    lines(qr_url(code), points=8, colour="#667085", gap=0)
    return bytes(pdf.output())
