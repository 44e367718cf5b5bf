"""Helpers for the Merchant API tests: a salon connected with app payments, and a caller
that speaks to ``/uzum/merchant/<connection>/...`` as the Uzum Bank app does."""

import base64
import json
import time
import uuid
from dataclasses import dataclass

from django.test import Client

from navbat.payments import services as payments

SERVICE_ID = 501234
LOGIN = "salon-app"
PASSWORD = "s3cret-pässword"


def connect_app(connect_uzum, salon, **options):
    options.setdefault("card_payments", True)
    options.setdefault("app_payments", True)
    options.setdefault("installments", True)
    return connect_uzum(
        salon,
        merchant_service_id=SERVICE_ID,
        merchant_login=LOGIN,
        merchant_password=PASSWORD,
        **options,
    )


def link_of(salon, appointment=None):
    appointment = appointment or salon.appointments[0]
    return payments.link_for(
        business=salon.business, kind="appointment", payable_id=appointment.pk, author=salon.owner
    )


def basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


@dataclass
class Answer:
    status: int
    body: dict

    @property
    def code(self) -> str | None:
        return self.body.get("errorCode")


class App:
    """The Uzum Bank app calling one connection's Merchant API (through Django's full
    request stack, CSRF checks on, as a foreign server would meet it)."""

    def __init__(self, connection, *, login=LOGIN, password=PASSWORD, service_id=SERVICE_ID):
        self.base = f"/uzum/merchant/{connection.public_id}"
        self.attribute = connection.payment_attribute
        self.auth = basic(login, password)
        self.service_id = service_id
        self.client = Client(enforce_csrf_checks=True)

    def post(self, endpoint: str, body, *, auth=None, raw: bytes | None = None) -> Answer:
        data = raw if raw is not None else json.dumps(body).encode()
        response = self.client.generic(
            "POST",
            f"{self.base}/{endpoint}",
            data,
            content_type="application/json",
            HTTP_AUTHORIZATION=auth if auth is not None else self.auth,
        )
        return Answer(response.status_code, json.loads(response.content))

    def _echo(self, trans_id=None) -> dict:
        body = {"serviceId": self.service_id, "timestamp": int(time.time() * 1000)}
        if trans_id is not None:
            body["transId"] = str(trans_id)
        return body

    def check(self, code: str) -> Answer:
        return self.post("check", {**self._echo(), "params": {self.attribute: code}})

    def create(self, code: str, amount: int, trans_id=None) -> Answer:
        trans_id = trans_id or uuid.uuid4()
        body = {**self._echo(trans_id), "params": {self.attribute: code}, "amount": amount}
        return self.post("create", body)

    def confirm(self, trans_id, source="UZCARD", tariff=None) -> Answer:
        body = {
            **self._echo(trans_id),
            "paymentSource": source,
            "phone": "998901234567",
            "processingReferenceNumber": "123456789012",
        }
        if tariff:
            body["tariff"] = tariff
        return self.post("confirm", body)

    def reverse(self, trans_id) -> Answer:
        return self.post("reverse", self._echo(trans_id))

    def status(self, trans_id) -> Answer:
        return self.post("status", self._echo(trans_id))
