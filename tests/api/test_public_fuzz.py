"""Schemathesis over the public booking operations: no input may make them answer 5xx, and
every answer matches the document (status, content type, schema).

Half of the generated slugs are salon A's (its widget on) and half of the service lists,
specialists, dates, times, phones, booking tokens and phone-check nonces are real ones, so
that the fuzzing reaches the booking services, not only the 404 and 422 branches.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from navbat.booking import limits, online, phone_checks
from navbat.booking.models import BookingSettings
from navbat.wsgi import application

from .public_helpers import day
from .test_fuzz import CHECKS, keep_connection  # noqa: F401 - a fixture

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(
    tag="public booking"
)

EXAMPLES = int(os.environ.get("NAVBAT_FUZZ_EXAMPLES", "25"))
DERANDOMIZE = not os.environ.get("NAVBAT_FUZZ_RANDOM")
LANGUAGES = ["", "ru", "uz", "en", "de", "ru-RU,ru;q=0.9", "x" * 300]


@pytest.fixture
def made() -> dict:
    """What one operation's examples share (they run in its test's transaction)."""
    return {}


def _prepare(salon, case, made: dict) -> dict:
    """Salon A's widget on (confirming phones for the phone-check operations), a booking of
    its own and a confirmed phone check: the real values the examples are steered to."""
    if made:
        return made
    confirming = "phone-checks" in case.path
    BookingSettings.objects.create(
        business=salon.business,
        location=salon.location,
        enabled=True,
        min_notice_minutes=0,
        phone_confirmation=confirming,
    )
    booked = online.book_online(
        location=salon.location,
        service_ids=[salon.services[0].pk],
        specialist_id=salon.specialists[1].pk,
        starts_at=salon.at(12, 0, days=3),
        name="Fuzz",
        phone="+998905550101",
        phone_confirmed=True,
    )
    check = phone_checks.ask_code(location=salon.location, phone="+998905550102")
    made.update(
        slug=salon.location.public_slug,
        services=[s.pk for s in salon.services],
        specialists=[s.pk for s in salon.specialists],
        token=booked.online.manage_token,
        nonce=check.nonce,
        code=check.code,
    )
    return made


def _pick(value) -> bool:
    """Two generated values in three are swapped for real ones (deterministically)."""
    return len(repr(value)) % 3 != 0


def _steer_path(values: dict, real: dict) -> None:
    for name, value in list(values.items()):
        if not isinstance(value, str) or not _pick(value):
            continue
        if name == "location":
            values[name] = real["slug"]
        elif name == "token":
            values[name] = real["token"]
        elif name == "nonce":
            values[name] = real["nonce"]


def _steer_query(values: dict, real: dict) -> None:
    for name, value in list(values.items()):
        if not _pick(value):
            continue
        if name == "services" and isinstance(value, str):
            values[name] = ",".join(map(str, real["services"][: 1 + len(value) % 2]))
        elif name == "specialist" and isinstance(value, int):
            values[name] = real["specialists"][value % 2]
        elif name in ("from", "date") and isinstance(value, str):
            values[name] = day(1 + len(value) % 5).isoformat()
        elif name == "to" and isinstance(value, str):
            values[name] = day(10 + len(value) % 50).isoformat()


def _steer_body(values: dict, real: dict, salon) -> None:
    for name, value in list(values.items()):
        if not _pick(value):
            continue
        if name == "services" and isinstance(value, list):
            values[name] = real["services"][: 1 + len(value) % 2]
        elif name == "specialist" and (value is None or isinstance(value, int)):
            values[name] = None if value is None else real["specialists"][value % 2]
        elif name == "start" and isinstance(value, str):
            minute = 15 * (len(value) % 4)
            values[name] = salon.at(9 + len(value) % 10, minute, days=2).isoformat()
        elif name == "phone" and isinstance(value, str):
            values[name] = f"+99893{len(value) * 7919 % 10_000_000:07d}"
        elif name == "name" and isinstance(value, str) and not value.strip():
            values[name] = "Fuzz Client"
        elif name == "phone_check" and isinstance(value, str):
            values[name] = real["nonce"]
        elif name == "code" and isinstance(value, str):
            values[name] = real["code"]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_no_input_makes_a_server_error(case, salon_a, keep_connection, made, monkeypatch):  # noqa: F811
    # The examples of one operation share an address and a transaction: limits that let
    # them through (the limits have their own tests in test_public_api.py).
    monkeypatch.setattr(limits, "READ", limits.Budget(per_address=10**6, per_phone=0, window=60))
    monkeypatch.setattr(
        limits, "WRITE", limits.Budget(per_address=10**6, per_phone=10**6, window=60)
    )
    real = _prepare(salon_a, case, made)
    if isinstance(case.path_parameters, dict):
        _steer_path(case.path_parameters, real)
    if isinstance(case.query, dict):
        _steer_query(case.query, real)
    if isinstance(case.body, dict):
        _steer_body(case.body, real, salon_a)
    language = LANGUAGES[len(str(case.body or case.query or "")) % len(LANGUAGES)]
    headers = {"Accept-Language": language} if language else {}
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS)
