"""The addresses of online booking's public pages: the one place they are made, for the
settings page, the widget, the payment page's way back and the public API."""

from django.urls import reverse

from navbat.kit.urls import public_root, public_url


def widget_url(slug: str) -> str:
    """The widget of the location whose public slug is ``slug``, absolute (printed QR
    codes and the salon's own site carry it)."""
    return public_url("booking_public:widget", slug=slug)


def manage_url(token: str) -> str:
    """The client's booking page, absolute."""
    return public_url("booking_public:manage", token=token)


def photo_path(*, slug: str, specialist) -> str:
    """A specialist's photo on the widget, or "" for none. The photo's time in the
    address makes a new photo a new address (the old one may be cached for long)."""
    if not specialist.photo_updated_at:
        return ""
    path = reverse("booking_public:photo", kwargs={"slug": slug, "specialist_id": specialist.pk})
    return f"{path}?v={int(specialist.photo_updated_at.timestamp())}"


def photo_url(*, slug: str, specialist) -> str:
    path = photo_path(slug=slug, specialist=specialist)
    return public_root() + path if path else ""
