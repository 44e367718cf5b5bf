"""What the widget's page tests share: the widget turned on for salon A, addresses of its
steps, and a booking made through the pages."""

from datetime import timedelta
from urllib.parse import urlencode

from navbat.booking.models import BookingSettings
from navbat.kit.timeutil import local_today

TZ = "Asia/Tashkent"
PHONE = "+998 90 555 12 34"


def day(days: int = 2):
    return local_today(TZ) + timedelta(days=days)


def url(salon, step: str = "", **params) -> str:
    """``/book/<slug>/<step>?…``; a list value repeats its parameter (``s=[1, 2]``)."""
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, str(item)))
    base = f"/book/{salon.location.public_slug}/{step}"
    return base + ("?" + urlencode(pairs) if pairs else "")


def pick(salon, *, services=None, specialist="any", days: int = 2, at: str = "15:00") -> dict:
    return {
        "s": [s.pk for s in (services or salon.services)],
        "p": specialist,
        "d": day(days).isoformat(),
        "t": at,
    }


def post_booking(client, salon, *, fields=None, **choice):
    """Post the details step (``action=book``) for ``choice`` with ``fields``."""
    data = {**pick(salon, **choice), "name": "Dilnoza Karimova", "phone": PHONE, "comment": ""}
    data.update(fields or {})
    data.setdefault("action", "book")
    return client.post(url(salon, "details"), data)


def turn_on_widget(salon) -> BookingSettings:
    """The salon's widget on, with no minimum notice (tests pick times two days ahead)."""
    return BookingSettings.objects.create(
        business=salon.business, location=salon.location, enabled=True, min_notice_minutes=0
    )
