import pytest

from navbat.payments import services
from navbat.payments.models import State
from navbat.uzum_sandbox import bank

pytestmark = pytest.mark.django_db


def test_card_payment_is_recorded_once(salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    link = services.link_for(
        business=salon_a.business, kind="appointment", payable_id=appointment.pk
    )
    order = services.start_card_payment(
        link=link,
        language="ru",
        success_url="http://127.0.0.1:8000/pay/x/return/REFERENCE",
        failure_url="http://127.0.0.1:8000/pay/x/return/REFERENCE?failed=1",
    )
    assert order.state == State.PENDING
    assert order.redirect_url
    bank.pay(order_id=order.bank_order_id, card_number="8600000000000018", code="")
    order = services.refresh(order=order)
    assert order.state == State.PAID
    assert order.card_kind == "uzcard"
    again = services.refresh(order=order)
    assert again.income_id == order.income_id
    print(order.fee_amount, order.fee_rate_bp, order.rrn, connection.pk)
