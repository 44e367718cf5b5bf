"""The hosted payment page, driven over the Django test client."""

import html
from datetime import timedelta

import pytest
from django.utils import timezone

from navbat.uzum_sandbox import bank, cards
from navbat.uzum_sandbox.models import Callback, CallbackKind, Order
from tests.uzum_sandbox.conftest import CARD, DECLINE_3008, HUMO_3DS
from tests.uzum_sandbox.merchant import register_order

SUCCESS = "https://salon.example/pay/success"
FAILURE = "https://salon.example/pay/failure"


@pytest.fixture
def shop(make_terminal):
    return make_terminal(
        merchant_name="Salon Guli",
        payment_callback_url="https://salon.example/uzum/callback",
        event_callback_url="https://salon.example/uzum/event",
    )


def page(order, step=""):
    return f"/sandbox/uzum/pay/{order.order_id}/{step}"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.parametrize(
    ("language", "amount", "pay"),
    [
        ("ru-RU", "150 000 сум", "Оплатить"),
        ("uz-UZ", "150 000 so'm", "To'lash"),
        ("en-EN", "150 000 so'm", "Pay"),
    ],
)
def test_the_page_shows_the_merchant_and_the_amount_in_the_order_language(
    client, shop, language, amount, pay
):
    order = register_order(shop, language=language)
    response = client.get(page(order))
    assert response.status_code == 200
    body = text(response)
    assert "Salon Guli" in body
    assert amount in body
    assert pay in body
    assert f'lang="{language[:2]}"' in body
    for card in cards.CARDS:  # every test card is listed with its scheme
        assert " ".join(card.number[i : i + 4] for i in range(0, 16, 4)) in body
    assert "3008" in body and "3009" in body and "3011" in body


def test_a_card_without_3ds_pays_and_returns_to_success_url(client, shop):
    order = register_order(shop, success_url=SUCCESS, failure_url=FAILURE)
    response = client.post(page(order), {"card_number": "8600 0000 0000 0018", "expiry": "12/30"})
    assert response.status_code == 302 and response.url == page(order, "done/")

    response = client.get(response.url)
    body = text(response)
    assert f'<meta http-equiv="refresh" content="2;url={SUCCESS}">' in body
    assert f'href="{SUCCESS}"' in body
    order.refresh_from_db()
    assert (order.status, order.ips, order.completed_amount) == ("COMPLETED", "UZCARD", 15_000_000)


def test_3ds_with_the_right_code_pays(client, shop):
    order = register_order(shop, language="en-EN")
    response = client.post(page(order), {"card_number": HUMO_3DS})
    assert response.url == page(order, "3ds/")
    body = text(client.get(response.url))
    assert "986009******9724" in body
    assert "777777" in body  # the sandbox tells the code

    response = client.post(page(order, "3ds/"), {"code": "777777"})
    assert response.url == page(order, "done/")
    assert "Payment successful" in text(client.get(response.url))
    order.refresh_from_db()
    assert (order.status, order.ips, order.action_code) == ("COMPLETED", "HUMO", 0)


def test_a_wrong_code_declines_with_3012_and_another_card_may_be_tried(client, shop):
    order = register_order(shop, language="en-EN", failure_url=FAILURE)
    client.post(page(order), {"card_number": HUMO_3DS})
    response = client.post(page(order, "3ds/"), {"code": "123456"})
    body = text(client.get(response.url))
    assert "Payment declined" in body and "Wrong 3-D Secure code" in body and "3012" in body
    assert "Try another card" in body and f'href="{FAILURE}"' in body
    order.refresh_from_db()
    assert (order.status, order.action_code) == ("REGISTERED", 3012)

    assert client.get(page(order)).status_code == 200  # the form again
    client.post(page(order), {"card_number": CARD})
    order.refresh_from_db()
    assert order.status == "COMPLETED"


def test_a_declining_card_shows_the_reason_and_leaves_the_order_registered(client, shop):
    order = register_order(shop, language="ru-RU", failure_url=FAILURE)
    response = client.post(page(order), {"card_number": DECLINE_3008})
    body = text(client.get(response.url))
    assert "Оплата отклонена" in body and "Недостаточно средств" in body
    assert 'data-action-code="3008"' in body
    assert f'href="{FAILURE}"' in body
    order.refresh_from_db()
    assert (order.status, order.action_code) == ("REGISTERED", 3008)


def test_an_unknown_card_declines_with_3013(client, shop):
    order = register_order(shop)
    client.post(page(order), {"card_number": "1234 5678 9012 3456"})
    order.refresh_from_db()
    assert order.action_code == 3013


def test_an_empty_card_number_asks_again(client, shop):
    order = register_order(shop, language="en-EN")
    response = client.post(page(order), {"card_number": ""})
    assert response.status_code == 200
    assert "Enter the card number." in text(response)
    assert not order.operations.exists()


def test_close_sends_form_closed_and_returns_to_failure_url(client, shop):
    order = register_order(shop, failure_url=FAILURE)
    response = client.post(page(order, "close/"))
    assert response.status_code == 302 and response.url == FAILURE
    event = Callback.objects.get(kind=CallbackKind.EVENT)
    assert event.body["eventType"] == "FORM_CLOSED"
    assert event.body["orderId"] == str(order.order_id)


def test_an_expired_order_shows_a_clear_page(client, shop):
    order = register_order(shop, language="en-EN")
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(page(order))
    assert response.status_code == 200
    assert "The payment session has expired" in text(response)

    response = client.post(page(order), {"card_number": CARD})
    assert "expired" in text(client.get(response.url))
    order.refresh_from_db()
    assert order.status == "REGISTERED" and not order.operations.exists()


def test_a_paid_order_shows_a_clear_page_and_is_not_charged_twice(client, shop):
    order = register_order(shop, language="en-EN")
    client.post(page(order), {"card_number": CARD})
    response = client.get(page(order))
    assert "This order is already paid" in text(response)

    response = client.post(page(order), {"card_number": CARD})  # a double submission
    assert "Payment successful" in text(client.get(response.url))
    assert order.operations.count() == 1


def test_two_step_orders_are_authorised(client, shop):
    order = register_order(shop, pay_type="TWO_STEP")
    client.post(page(order), {"card_number": CARD})
    order.refresh_from_db()
    assert (order.status, order.authorized_amount) == ("AUTHORIZED", order.amount)


def test_force3ds_asks_for_the_code_for_any_card(client, shop):
    order = register_order(shop, force3ds=True)
    response = client.post(page(order), {"card_number": CARD})
    assert response.url == page(order, "3ds/")


def test_the_code_page_without_a_waiting_card_goes_back_to_the_form(client, shop):
    order = register_order(shop)
    response = client.get(page(order, "3ds/"))
    assert response.status_code == 302 and response.url == page(order)


def test_an_unknown_order_is_a_clear_404(client, db):
    response = client.get("/sandbox/uzum/pay/00000000-0000-4000-8000-000000000000/")
    assert response.status_code == 404
    assert "Платёж не найден" in text(response)
    for step in ("3ds/", "done/"):
        response = client.get(f"/sandbox/uzum/pay/00000000-0000-4000-8000-000000000000/{step}")
        assert response.status_code == 404


def test_the_done_page_of_an_untouched_order_is_the_form(client, shop):
    order = register_order(shop)
    response = client.get(page(order, "done/"))
    assert response.status_code == 302 and response.url == page(order)


def test_the_page_may_be_framed(client, shop):
    order = register_order(shop, view_type="IFRAME")
    response = client.get(page(order))
    assert "X-Frame-Options" not in response.headers


def test_a_reversed_order_shows_its_state(client, shop):
    order = register_order(shop, pay_type="TWO_STEP", language="en-EN")
    bank.pay(order_id=order.order_id, card_number=CARD)
    bank.reverse(terminal=shop, order_id=order.order_id, amount=order.amount, key="k1")
    body = text(client.get(page(order)))
    assert "can no longer be paid" in body and "REVERSED" in body
