"""Helpers for the API tests: a bearer-token client and snapshots of a business's rows."""

import json

import pytest

from navbat.booking.models import Appointment, AppointmentLine
from navbat.finance.models import SaleDocument, Transaction
from navbat.kit.tenancy import scoped
from navbat.payments.models import PaymentOrder, Refund
from navbat.salons.models import Client, Location, Product, Service, Specialist

BASE = "/api/v1"
TZ_NAME = "Asia/Tashkent"
TENANT_MODELS = [
    Location,
    Specialist,
    Service,
    Product,
    Client,
    Appointment,
    AppointmentLine,
    SaleDocument,
    Transaction,
    PaymentOrder,
    Refund,
]


class Api:
    """Calls the API as one business (or with a given Authorization header)."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, headers):
        out = {}
        if self.token is not None:
            out["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        out.update(headers or {})
        return out

    def get(self, path, params=None, headers=None):
        return self.client.get(BASE + path, params or {}, **self._headers(headers))

    def send(self, method, path, body=None, raw=None, headers=None):
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.generic(
            method.upper(),
            BASE + path,
            data,
            content_type="application/json",
            **self._headers(headers),
        )

    def post(self, path, body=None, **kwargs):
        return self.send("POST", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.send("PATCH", path, body, **kwargs)


@pytest.fixture
def api_a(client, salon_a):
    return Api(client, salon_a.api_token)


@pytest.fixture
def api_b(client, salon_b):
    return Api(client, salon_b.api_token)


@pytest.fixture
def anonymous(client, db):
    return Api(client, None)


def snapshot(business) -> dict:
    """Every row a business owns in the tables the API can touch, field by field."""
    return {
        model.__name__: list(scoped(model, business).order_by("pk").values())
        for model in TENANT_MODELS
    }


def counts() -> dict:
    return {model.__name__: model._default_manager.count() for model in TENANT_MODELS}


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    return body


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The salon fixtures create users; API tests never log in with a password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
