"""Where a location's booking widget is found from outside (F6): its public address, the QR
of that address (inline on the settings page, PNG and SVG to download for the salon's
Instagram and Telegram), and the snippets that put it on the salon's own site.

Every address is built on ``NAVBAT_PUBLIC_URL`` (``kit.urls``), never on the request: the
administrator may be on an internal host name, the client's phone must reach the public one.
"""

import io
import math

import segno
from django.utils.html import escape

from navbat.kit.urls import public_root

QUIET_ZONE = 4  # modules, the standard's minimum
ERROR = "q"  # about 25% may be lost: a story's sticker or a logo over a corner still scans
# Instagram's and Telegram's square pictures are 1080 px wide; modules are whole pixels.
PNG_MIN_PIXELS = 1080
INK = "#1d2430"
BRAND = "#7000ff"
# The floating button's script, written by the widget. A fixed name, not the hashed one of
# the manifest: the snippet lives on the salon's site for years, across our releases.
BUTTON_SCRIPT_PATH = "/static/navbat/book-button.js"
IFRAME_HEIGHT = 720


def button_script_url() -> str:
    return public_root() + BUTTON_SCRIPT_PATH


def iframe_snippet(url: str, *, title: str) -> str:
    """HTML for the salon's own page: the widget in a frame (the salon's site, not ours,
    so its inline style is the salon's business)."""
    return (
        f'<iframe src="{escape(url)}" title="{escape(title)}" width="100%" '
        f'height="{IFRAME_HEIGHT}" style="border:0;max-width:480px" loading="lazy"></iframe>'
    )


def button_snippet(url: str) -> str:
    """HTML for the salon's own page: a floating "Book" button that opens the widget."""
    return (
        f'<script src="{escape(button_script_url())}" data-navbat-book="{escape(url)}" '
        "async></script>"
    )


def make_qr(url: str) -> segno.QRCode:
    return segno.make_qr(url, error=ERROR, boost_error=False)


def _modules(qr: segno.QRCode) -> int:
    return qr.symbol_size(scale=1, border=QUIET_ZONE)[0]


def qr_inline(url: str) -> str:
    """The code drawn into the settings page itself (no request for a picture)."""
    return make_qr(url).svg_inline(scale=3, border=QUIET_ZONE, dark="#000", light="#fff")


def qr_png(url: str) -> bytes:
    """A square PNG at least 1080 px wide, the quiet zone included, in the pages' colours."""
    qr = make_qr(url)
    out = io.BytesIO()
    qr.save(
        out,
        kind="png",
        scale=math.ceil(PNG_MIN_PIXELS / _modules(qr)),
        border=QUIET_ZONE,
        dark=INK,
        finder_dark=BRAND,
        light="#fff",
    )
    return out.getvalue()


def qr_svg(url: str) -> bytes:
    """A vector code (sharp at any size), titled with the address it holds."""
    qr = make_qr(url)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=10, border=QUIET_ZONE, dark="#000", light="#fff", title=url)
    return out.getvalue()
