"""The JSON API of F2: the appointment's payment link, and the list of online payments."""

from datetime import timedelta

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from navbat.booking.services import cancel_appointment, take_desk_payment
from navbat.kit.timeutil import local_today, to_local
from navbat.payments import services as payments
from navbat.payments.models import PaymentLink, PaymentOrder
from navbat.uzum_sandbox import bank
from tests.uzum.merchant import App, connect_app, link_of

from .conftest import TZ_NAME, assert_error

pytestmark = pytest.mark.django_db

ROOT = "https://navbat.example.uz"


def iso(moment) -> str | None:
    return None if moment is None else DjangoJSONEncoder().default(to_local(moment, TZ_NAME))


def link_path(appointment) -> str:
    return f"/appointments/{appointment.pk}/payment-link"


def start(salon, appointment) -> PaymentOrder:
    link = payments.link_for(business=salon.business, kind="appointment", payable_id=appointment.pk)
    return payments.start_card_payment(
        link=link,
        language="en",
        success_url=f"{ROOT}/pay/{link.token}/return/REFERENCE",
        failure_url=f"{ROOT}/pay/{link.token}/return/REFERENCE?failed=1",
    )


def paid(salon, appointment, card="8600000000000018") -> PaymentOrder:
    order = start(salon, appointment)
    bank.pay(order_id=order.bank_order_id, card_number=card)
    return payments.refresh(order=order)


def order_json(order: PaymentOrder, **changes) -> dict:
    order.refresh_from_db()
    body = {
        "id": order.reference,
        "method": "card",
        "card_kind": None,
        "card_scheme": "",
        "masked_pan": "",
        "tariff": "",
        "amount": 10_000_000,
        "paid_amount": 0,
        "fee": 0,
        "fee_rate": None,
        "refunded_amount": 0,
        "fee_returned_amount": 0,
        "state": "pending",
        "created_at": iso(order.created_at),
        "paid_at": None,
        "appointment_id": order.payable_id,
        "client_id": order.client_id,
    }
    return {**body, **changes}


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT


# ---- POST /appointments/{id}/payment-link -----------------------------------------------------


def test_a_payment_link_is_made_once(api_a, salon_a, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]

    first = api_a.post(link_path(appointment))

    assert first.status_code == 201, first.content
    link = PaymentLink.objects.get()
    assert first.json() == {
        "url": f"{ROOT}/pay/{link.token}",
        "token": link.token,
        "amount_due": 10_000_000,
        "created_at": iso(link.created_at),
    }
    assert (link.payable_kind, link.payable_id, link.created_by) == (
        "appointment",
        appointment.pk,
        None,
    )
    assert len(link.token) >= 22  # 128 bits in URL-safe base64

    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=4_000_000)
    again = api_a.post(link_path(appointment))
    assert again.status_code == 200
    assert again.json() == {**first.json(), "amount_due": 6_000_000}
    assert PaymentLink.objects.count() == 1


def test_no_connection_is_a_409(api_a, salon_a):
    body = assert_error(
        api_a.post(link_path(salon_a.appointments[0])), 409, "payments_not_connected"
    )
    assert body["message"] == "Connect a bank to send payment links."
    assert PaymentLink.objects.count() == 0


def test_a_cancelled_appointment_is_a_409(api_a, salon_a, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    cancel_appointment(appointment=appointment)
    body = assert_error(api_a.post(link_path(appointment)), 409, "appointment_cancelled")
    assert body["message"] == "This appointment was cancelled: there is nothing to pay."
    assert PaymentLink.objects.count() == 0


def test_nothing_due_is_a_409(api_a, salon_a, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=10_000_000)
    body = assert_error(api_a.post(link_path(appointment)), 409, "nothing_due")
    assert body["message"] == "Nothing is due on this appointment."
    assert PaymentLink.objects.count() == 0


def test_another_business_appointment_is_a_404(api_a, salon_a, salon_b, connect_uzum):
    connect_uzum(salon_a)
    connect_uzum(salon_b)
    assert_error(api_a.post(link_path(salon_b.appointments[0])), 404, "not_found")
    assert_error(api_a.post("/appointments/999999999/payment-link"), 404, "not_found")
    assert PaymentLink.objects.count() == 0


def test_a_bad_id_and_no_token(api_a, anonymous, salon_a):
    assert_error(api_a.post("/appointments/0/payment-link"), 422, "invalid")
    assert_error(api_a.post("/appointments/abc/payment-link"), 422, "invalid")
    assert_error(anonymous.post(link_path(salon_a.appointments[0])), 401, "unauthenticated")
    assert_error(api_a.get(link_path(salon_a.appointments[0])), 405, "method_not_allowed")


# ---- GET /payments ----------------------------------------------------------------------------


def test_payments_list_with_card_fee_and_appointment(api_a, salon_a, connect_uzum):
    connect_uzum(salon_a)
    first, second = salon_a.appointments
    done = paid(salon_a, first)
    waiting = start(salon_a, second)

    response = api_a.get("/payments")

    assert response.status_code == 200, response.content
    done.refresh_from_db()
    assert response.json() == {
        "count": 2,
        "limit": 50,
        "offset": 0,
        "items": [
            order_json(waiting),
            order_json(
                done,
                card_kind="uzcard",
                card_scheme="UZCARD",
                masked_pan="860000******0018",
                paid_amount=10_000_000,
                fee=100_000,
                fee_rate="1",
                state="paid",
                paid_at=iso(done.paid_at),
            ),
        ],
    }
    assert response.json()["items"][1]["appointment_id"] == first.pk
    assert response.json()["items"][1]["client_id"] == salon_a.clients[0].pk


def test_payments_filter_by_state_and_day(api_a, salon_a, connect_uzum):
    connect_uzum(salon_a)
    first, second = salon_a.appointments
    done = paid(salon_a, first, card="9860000000000016")
    waiting = start(salon_a, second)
    today = local_today(TZ_NAME)

    def refs(**params):
        response = api_a.get("/payments", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["items"]]

    assert refs(state="paid") == [done.reference]
    assert refs(state="pending") == [waiting.reference]
    assert refs(state="refunded") == []
    assert refs(date_from=today.isoformat()) == [waiting.reference, done.reference]
    assert refs(date_to=today.isoformat(), state="paid") == [done.reference]
    assert refs(date_from=(today + timedelta(days=1)).isoformat()) == []
    assert refs(date_to=(today - timedelta(days=1)).isoformat()) == []
    assert refs(limit=1, offset=1) == [done.reference]
    # Days are the business's local days of when the payment started.
    PaymentOrder.objects.filter(pk=done.pk).update(created_at=done.created_at - timedelta(days=2))
    assert refs(date_to=(today - timedelta(days=1)).isoformat()) == [done.reference]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"state": "lost"}, "state"),
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"date_to": "1999-12-31"}, "date_to"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_to"),
        ({"limit": 0}, "limit"),
    ],
)
def test_invalid_filters_are_422(api_a, params, field):
    body = assert_error(api_a.get("/payments", params), 422, "invalid")
    assert list(body["details"]) == [field]


def test_payments_of_another_business_are_never_listed(
    api_a, api_b, salon_a, salon_b, connect_uzum
):
    connect_uzum(salon_a)
    connect_uzum(salon_b)
    mine = start(salon_a, salon_a.appointments[0])
    theirs = start(salon_b, salon_b.appointments[0])
    assert [row["id"] for row in api_a.get("/payments").json()["items"]] == [mine.reference]
    assert [row["id"] for row in api_b.get("/payments").json()["items"]] == [theirs.reference]


def test_payments_need_a_token(anonymous):
    assert_error(anonymous.get("/payments"), 401, "unauthenticated")


def test_the_new_operations_are_in_the_openapi_schema(api_a):
    schema = api_a.get("/openapi.json").json()
    assert "post" in schema["paths"]["/api/v1/appointments/{appointment_id}/payment-link"]
    operation = schema["paths"]["/api/v1/payments"]["get"]
    assert operation["operationId"] == "list_payments"
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"date_from", "date_to", "state", "limit", "offset"} <= names


def test_an_app_payment_in_installments_lists_its_plan(api_a, salon_a, connect_uzum):
    connection = connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)
    app = App(connection)
    trans_id = "6f0f3c1e-7d1a-4c55-9a57-1c8c7d0e2b10"
    assert app.create(link.code, 10_000_000, trans_id).status == 200
    assert app.confirm(trans_id, source="INSTALLMENT", tariff="15-0-4").status == 200
    order = PaymentOrder.objects.get(link=link)

    response = api_a.get("/payments")

    assert response.status_code == 200, response.content
    assert response.json()["items"] == [
        order_json(
            order,
            method="app",
            card_kind="installment",
            card_scheme="INSTALLMENT",
            tariff="15-0-4",
            paid_amount=10_000_000,
            fee=500_000,
            fee_rate="5",
            state="paid",
            paid_at=iso(order.paid_at),
        )
    ]
