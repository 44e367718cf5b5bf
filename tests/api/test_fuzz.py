"""Schemathesis over the whole OpenAPI schema: no input may make the API answer 5xx.

Every operation gets generated requests (valid and invalid) with salon A's token. Half of
the generated ids are swapped for ids of rows that exist (A's and B's), some times for
times inside the specialists' working hours and some phones for valid ones, so the fuzzing
reaches the services too, not only the 404 and 422 branches. The payment operations get
paid card payments on the sandbox bank (A's and B's) and some small refund amounts, so the
refund reaches the bank too.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from navbat.wsgi import application

# The public booking operations have their own run (test_public_fuzz.py).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).exclude(
    tag="public booking"
)

# A longer hunt: NAVBAT_FUZZ_EXAMPLES=500 NAVBAT_FUZZ_RANDOM=1 pytest tests/api/test_fuzz.py
EXAMPLES = int(os.environ.get("NAVBAT_FUZZ_EXAMPLES", "25"))
DERANDOMIZE = not os.environ.get("NAVBAT_FUZZ_RANDOM")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def keep_connection():
    """The WSGI handler closes the connection after each request; inside a test's
    transaction that would poison it. Django's test client disconnects the same signal."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def made() -> dict:
    """Rows made for one operation's examples (its test's fixtures live that long)."""
    return {}


def _real_ids(salon_a, salon_b) -> dict[str, list[int]]:
    def ids(*rows):
        return [row.pk for row in rows]

    return {
        "location_id": ids(salon_a.location, salon_b.location),
        "specialist_id": ids(*salon_a.specialists, *salon_b.specialists),
        "service_id": ids(*salon_a.services, *salon_b.services),
        "product_id": ids(*salon_a.products, *salon_b.products),
        "client_id": ids(*salon_a.clients, *salon_b.clients),
        "appointment_id": ids(*salon_a.appointments, *salon_b.appointments),
        "item_id": ids(*salon_a.services, *salon_a.products),
    }


def _paid_payments(salon_a, salon_b, connect_uzum, settings) -> list[str]:
    """References of payments on the sandbox bank: A's paid, A's pending, B's paid."""
    from .test_payments_api import ROOT, paid, start

    settings.NAVBAT_PUBLIC_URL = ROOT
    connect_uzum(salon_a)
    connect_uzum(salon_b)
    first, second = salon_a.appointments
    return [
        paid(salon_a, first).reference,
        start(salon_a, second).reference,
        paid(salon_b, salon_b.appointments[0]).reference,
    ]


def _steer(values: dict, real: dict[str, list], salon) -> None:
    """Point some generated ids at existing rows and some times into working hours."""
    for name, value in list(values.items()):
        if name in real and isinstance(value, int) and not isinstance(value, bool):
            if value % 2 == 0:
                values[name] = real[name][value // 2 % len(real[name])]
        elif name == "payment_id" and isinstance(value, str) and real.get(name):
            if len(value) % 2 == 0:
                values[name] = real[name][len(value) // 2 % len(real[name])]
        elif name == "amount" and isinstance(value, int) and not isinstance(value, bool):
            if value > 0 and value % 3 == 0:
                values[name] = 1 + value % 2_000_000  # a refund the payment can take
        elif name == "starts_at" and isinstance(value, str) and len(value) % 2 == 0:
            values[name] = salon.at(9 + len(value) % 10, days=2).isoformat()
        elif name == "ends_at" and isinstance(value, str) and len(value) % 3 == 0:
            values[name] = salon.at(21, days=2).isoformat()
        elif name == "phone" and isinstance(value, str) and len(value) % 2 == 0:
            values[name] = f"+99893{len(value) * 7919 % 10_000_000:07d}"
        elif name == "lines" and isinstance(value, list):
            for line in value:
                if isinstance(line, dict):
                    _steer(line, real, salon)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_no_input_makes_a_server_error(
    case, salon_a, salon_b, keep_connection, connect_uzum, settings, made
):
    real = _real_ids(salon_a, salon_b)
    if isinstance(case.path_parameters, dict) and "payment_id" in case.path_parameters:
        # Made once per operation: its examples share the test's transaction.
        if "payment_id" not in made:
            made["payment_id"] = _paid_payments(salon_a, salon_b, connect_uzum, settings)
        real["payment_id"] = made["payment_id"]
    if isinstance(case.path_parameters, dict):
        _steer(case.path_parameters, real, salon_a)
    if isinstance(case.body, dict):
        _steer(case.body, real, salon_a)
    response = case.call(headers={"Authorization": f"Bearer {salon_a.api_token}"})
    case.validate_response(response, checks=CHECKS)
