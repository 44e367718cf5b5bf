"""Every administration URL and every API route that takes an object id, swept automatically:
a user or token of business A gets 404 (or 403) for each object of business B, and nothing
of B changes. New routes join the sweep by themselves; an id parameter the sweep does not
know fails the test until it is added to MODELS below."""

import json
import re
import uuid

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from navbat.accounts.models import Membership
from navbat.booking.models import Appointment, AppointmentLine
from navbat.booking.services import take_desk_payment
from navbat.finance.models import CashRegister, SaleDocument, Transaction
from navbat.kit.tenancy import TenantModel
from navbat.payments.models import PaymentOrder
from navbat.salons.models import (
    CheckoutPoint,
    Client,
    Location,
    Product,
    ScheduleException,
    Service,
    ServiceCategory,
    Specialist,
)

pytestmark = pytest.mark.django_db

# URL keyword / path parameter → the model whose id it carries.
MODELS = {
    "appointment_id": Appointment,
    "line_id": AppointmentLine,
    "client_id": Client,
    "specialist_id": Specialist,
    "service_id": Service,
    "category_id": ServiceCategory,
    "product_id": Product,
    "register_id": CashRegister,
    "transaction_id": Transaction,
    "document_id": SaleDocument,
    "exception_id": ScheduleException,
    "location_id": Location,
    "checkout_point_id": CheckoutPoint,
    "membership_id": Membership,
    "order_id": PaymentOrder,
    "point_id": CheckoutPoint,
}
# Path parameters that carry a public reference, not a pk: one of business B's (or A's) is
# made by ``references_of``.
REFERENCES = {"payment_id"}


def references_of(salon, connect_uzum) -> dict[str, str]:
    """A payment order of the salon, started on the sandbox bank: its reference."""
    from tests.payments.jobs import start_payment

    connect_uzum(salon)
    return {"payment_id": start_payment(salon).reference}


# Bodies a POST may carry: plausible enough to reach the object lookup, so that a 404 proves
# the scoping and not merely a form error.
def plausible_post(salon_a) -> dict:
    return {
        "name": "Hijacked",
        "phone": "+998901110000",
        "status": "cancelled",
        "price": "1000",
        "amount": "1000",
        "register": salon_a.cash.pk,
        "kind": "cash",
        "duration_minutes": "30",
        "position": "x",
        "location": salon_a.location.pk,
        "day": "2030-01-01",
        "is_day_off": "on",
        "client_phone": "+998901110000",
        "client_name": "X",
        "specialist": salon_a.specialists[0].pk,
        "start_time": "10:00",
    }


def snapshot(business) -> dict:
    """Every tenant row of a business, field by field."""
    state = {}
    for model in apps.get_models():
        if issubclass(model, TenantModel):
            state[model._meta.label] = sorted(
                map(repr, model.objects.filter(business=business).values())
            )
    return state


def objects_of(salon_b) -> dict[str, int]:
    """One object id of business B for every known parameter."""
    business = salon_b.business
    appointment = salon_b.appointments[0]
    take_desk_payment(appointment=appointment, register_id=salon_b.cash.pk, amount=100)
    # A paid online payment of B's (written as the books would have it, no bank needed):
    # refund pages of A's must not find it.
    PaymentOrder.objects.create(
        business=business,
        payable_kind="appointment",
        payable_id=appointment.pk,
        document=appointment.document,
        provider="uzum",
        account_id=0,
        method="card",
        state="paid",
        amount=100,
        paid_amount=100,
        reference=str(uuid.uuid4()),
    )
    ids = {}
    for name, model in MODELS.items():
        row = model.objects.filter(business=business).order_by("id").first()
        assert row is not None, f"fixture salon_b has no {model.__name__}"
        ids[name] = row.pk
    return ids


def admin_routes():
    """(path template, parameter names) of every salon administration URL with an id."""
    found = []

    def walk(patterns, prefix=""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                # Django admin is the operators'; the API is swept below; the sandbox bank plays
                # Uzum Bank and holds no salon's data.
                # pay/ is public (the token is the authority, covered in tests/payments) and
                # uzum/ is the bank's (callbacks, covered in tests/uzum); q/ is the public
                # checkout QR (its code is the authority, covered in tests/payments/test_qr_*);
                # book/ is the public booking widget and the client's booking page (a
                # location's public slug or a booking's token is the authority; another
                # business's rows are refused in tests/booking/test_widget_*.py).
                if route.startswith(("admin/", "api/", "sandbox/", "pay/", "q/", "uzum/", "book/")):
                    continue
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and entry.pattern.converters:
                if "uidb64" in entry.pattern.converters:
                    # The password-reset link: public, its signed token is the authority
                    # (covered in tests/accounts/test_passwords.py); it names a user, no business.
                    continue
                found.append((route, list(entry.pattern.converters)))

    walk(get_resolver().url_patterns)
    return found


def fill(route: str, ids: dict[str, int]) -> str:
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), route)
    return "/" + path.lstrip("^").rstrip("$")


def test_sweep_covers_routes():
    routes = admin_routes()
    assert len(routes) >= 5, routes
    unknown = {name for _route, names in routes for name in names if name not in MODELS}
    assert not unknown, f"add these URL parameters to the sweep: {unknown}"


@pytest.mark.parametrize("role", ["owner", "admin", "specialist_user"])
def test_administration_pages_never_answer_another_business(salon_a, salon_b, client, role):
    client.force_login(getattr(salon_a, role))
    ids = objects_of(salon_b)
    before = snapshot(salon_b.business)
    checked = []
    for route, _names in admin_routes():
        url = fill(route, ids)
        for method in ("get", "post"):
            kwargs = {"data": plausible_post(salon_a)} if method == "post" else {}
            response = getattr(client, method)(url, **kwargs)
            assert response.status_code in (403, 404, 405), (method, url, response.status_code)
            checked.append((method, url))
    assert checked
    assert snapshot(salon_b.business) == before


def api_operations(client):
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    for path, operations in schema["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if not params or path.startswith("/api/v1/public/"):
            # The public booking API takes no token and no ids: a location's public slug
            # or a booking's private token is the authority (tests/api/test_public_*.py).
            continue
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, params, method, operation


def test_sweep_covers_api_routes(client):
    operations = list(api_operations(client))
    assert len(operations) >= 6
    known = set(MODELS) | REFERENCES
    unknown = {p for _path, params, _m, _o in operations for p in params if p not in known}
    assert not unknown, f"add these path parameters to the sweep: {unknown}"


def test_api_never_answers_another_business(salon_a, salon_b, client, connect_uzum):
    ids = {**objects_of(salon_b), **references_of(salon_b, connect_uzum)}
    before = snapshot(salon_b.business)
    auth = {
        "HTTP_AUTHORIZATION": f"Bearer {salon_a.api_token}",
        "HTTP_IDEMPOTENCY_KEY": "sweep",
    }
    body = json.dumps(
        {
            "name": "Hijacked",
            "phone": "+998901110000",
            "status": "cancelled",
            "comment": "x",
            "amount": 100_000,
            "reason": "Hijacked",
            # Pay by QR names a point: one of A's, so that B's appointment is what is looked up.
            "checkout_point": salon_a.checkout_point.pk,
        }
    )
    for path, _params, method, _operation in api_operations(client):
        url = re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), path)
        response = client.generic(
            method.upper(), url, body, content_type="application/json", **auth
        )
        assert response.status_code in (403, 404), (
            method,
            url,
            response.status_code,
            response.content[:200],
        )
        assert response.json()["code"] in ("not_found", "forbidden")
    assert snapshot(salon_b.business) == before


def test_the_same_pages_answer_their_own_business(salon_a, client):
    """The control: the sweep's 404s mean scoping, not routes that never answer."""
    client.force_login(salon_a.owner)
    ids = objects_of(salon_a)
    for route, _names in admin_routes():
        response = client.get(fill(route, ids))
        assert response.status_code in (200, 302, 405), (route, response.status_code)


def test_the_same_api_routes_answer_their_own_business(salon_a, client, connect_uzum):
    ids = {**objects_of(salon_a), **references_of(salon_a, connect_uzum)}
    auth = {"HTTP_AUTHORIZATION": f"Bearer {salon_a.api_token}"}
    for path, _params, method, _operation in api_operations(client):
        if method != "get":
            continue
        url = re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), path)
        assert client.get(url, **auth).status_code == 200, url
