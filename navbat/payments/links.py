"""What the administrator hands the client: the link's address, share links and a QR code.

The address is built from ``NAVBAT_PUBLIC_URL``, not from the request: the administrator
may be on an internal host name, the client's phone must reach the public one.
"""

from dataclasses import dataclass
from urllib.parse import quote, urlencode

import segno
from django.utils.translation import gettext as _

from navbat.kit.money import format_money
from navbat.kit.urls import public_url


def link_url(token: str) -> str:
    return public_url("pay:page", token=token)


def return_url(token: str, *, failed: bool = False) -> str:
    """Where the bank sends the client back; ``REFERENCE`` is replaced by the order's."""
    url = public_url("pay:return", token=token, reference="REFERENCE")
    return url + ("?failed=1" if failed else "")


def share_text(*, salon: str, amount: int) -> str:
    """A short message in the current language, without the link (the share targets add it)."""
    return _("%(salon)s: payment link for %(amount)s") % {
        "salon": salon,
        "amount": format_money(amount),
    }


@dataclass(frozen=True)
class Share:
    url: str
    text: str
    sms: str
    telegram: str
    whatsapp: str


def share(*, url: str, salon: str, amount: int) -> Share:
    text = share_text(salon=salon, amount=amount)
    with_link = f"{text} {url}"
    return Share(
        url=url,
        text=text,
        # "sms:?&body=" is the form both iOS and Android accept without a recipient.
        sms="sms:?&body=" + quote(with_link, safe=""),
        telegram="https://t.me/share/url?" + urlencode({"url": url, "text": text}),
        whatsapp="https://wa.me/?" + urlencode({"text": with_link}),
    )


def qr_svg(url: str, *, scale: int = 4) -> str:
    """The QR code of ``url`` as inline SVG markup (no file, no external request)."""
    return segno.make(url, error="m", micro=False).svg_inline(
        scale=scale, dark="#1d2430", light="#ffffff", omitsize=False
    )
