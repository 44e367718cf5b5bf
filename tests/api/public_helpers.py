"""Helpers of the public booking API's tests (tests/api/test_public_*.py): a client without
a token, a location's widget turned on, and a count of every row a booking may write."""

import json
from datetime import date, timedelta

from navbat.booking.models import Appointment, BookingSettings, OnlineBooking, PhoneCheck
from navbat.finance.models import SaleDocument
from navbat.kit.timeutil import local_today
from navbat.payments.models import PaymentLink
from navbat.salons.models import Client

from .conftest import BASE, TZ_NAME

ROOT = "https://navbat.example"
PUBLIC = BASE + "/public"
WRITTEN = [Appointment, OnlineBooking, Client, SaleDocument, PaymentLink, PhoneCheck]


class Public:
    """Calls the public API as a browser would: no token; a language when asked."""

    def __init__(self, client, language: str | None = None):
        self.client = client
        self.language = language

    def _headers(self, headers) -> dict:
        out = {"HTTP_ACCEPT_LANGUAGE": self.language} if self.language else {}
        out.update(headers or {})
        return out

    def get(self, path: str, params: dict | None = None, headers=None):
        return self.client.get(PUBLIC + path, params or {}, **self._headers(headers))

    def send(self, method: str, path: str, body=None, raw=None, headers=None):
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.generic(
            method.upper(),
            PUBLIC + path,
            data,
            content_type="application/json",
            **self._headers(headers),
        )

    def post(self, path: str, body=None, **kwargs):
        return self.send("POST", path, body, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.send("DELETE", path, **kwargs)


def turn_on(salon, **fields) -> BookingSettings:
    """The salon's widget on, with no minimum notice unless a test says otherwise."""
    fields.setdefault("enabled", True)
    fields.setdefault("min_notice_minutes", 0)
    return BookingSettings.objects.create(
        business=salon.business, location=salon.location, **fields
    )


def day(days: int) -> date:
    return local_today(TZ_NAME) + timedelta(days=days)


def written() -> dict[str, int]:
    """How many rows of each kind a booking or a phone check may write exist."""
    return {model.__name__: model._default_manager.count() for model in WRITTEN}


def booking_body(salon, **fields) -> dict:
    body = {
        "services": [salon.services[0].pk],
        "specialist": salon.specialists[0].pk,
        "start": salon.at(15, 0, days=2).isoformat(),
        "name": "Dilnoza Karimova",
        "phone": "+998 90 555 12 34",
        "comment": "Window seat",
    }
    body.update(fields)
    return body


def local_iso(salon, hour: int, minute: int = 0, days: int = 2) -> str:
    """What the API answers for a local time: ISO 8601 with the location's offset."""
    return salon.at(hour, minute, days).isoformat()
