"""Reads of the checkout QR section of Finance → Online payments: the provider connection
as the page shows it, the active checkout points of each location with the address their
QR holds, and what a point's poster says."""

from dataclasses import dataclass

from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from navbat.kit.tenancy import scoped
from navbat.salons.models import CheckoutPoint, CheckoutPointCode, Location
from navbat.salons.selectors import checkout_points

from . import providers
from .printing import PosterText, preview_svg, qr_url


@dataclass(frozen=True)
class ConnectionSummary:
    connected: bool
    name: str  # the provider's name, "" when nothing is connected
    methods: tuple[str, ...]  # labels of the methods in force
    settings_url: str
    settings_label: str


def connection(*, business) -> ConnectionSummary:
    account = providers.active_account(business=business)
    if account is None:
        page = providers.settings_page()
        return ConnectionSummary(
            connected=False,
            name="",
            methods=(),
            settings_url=page.url if page else "",
            settings_label=page.label if page else "",
        )
    provider = providers.get(account.provider)
    presentation = provider.presentation()
    page = provider.settings_page()
    methods = [
        str(label)
        for method, label in presentation.method_labels.items()
        if method in account.methods
    ]
    if account.installments:
        methods.append(_("Installments"))
    return ConnectionSummary(
        connected=True,
        name=presentation.display_name,
        methods=tuple(methods),
        settings_url=page.url,
        settings_label=page.label,
    )


def points_by_location(*, business) -> list[tuple[Location, list[CheckoutPoint]]]:
    """Every location (a point can be added to any), each with its active points; a point
    carries ``qr_url``, the address its QR holds, and ``qr_preview``, its code as SVG."""
    codes = dict(
        scoped(CheckoutPointCode, business)
        .filter(retired_at=None, point__retired_at=None)
        .values_list("point_id", "code")
    )
    points: dict[int, list[CheckoutPoint]] = {}
    for point in checkout_points(business=business, active_only=True).order_by("name", "id"):
        code = codes.get(point.pk)
        point.qr_url = qr_url(code) if code else ""
        # segno writes the SVG from our own address (a URL it escapes): safe to inline.
        point.qr_preview = mark_safe(preview_svg(code)) if code else ""  # noqa: S308
        points.setdefault(point.location_id, []).append(point)
    return [
        (location, points.get(location.pk, []))
        for location in scoped(Location, business).order_by("name", "id")
    ]


def poster_text(*, business, point: CheckoutPoint) -> PosterText:
    """The words of a point's poster: the cards and the app of the connected provider (none
    while nothing is connected: the poster then promises nothing it cannot keep)."""
    cards: tuple[str, ...] = ()
    app_name = ""
    account = providers.active_account(business=business)
    if account is not None:
        presentation = providers.get(account.provider).presentation()
        cards = tuple(presentation.accepted_cards)
        app_name = presentation.app_name
    return PosterText(
        salon=business.name,
        point=f"{point.location.name} · {point.name}",
        cards=cards,
        app_name=app_name,
    )
