"""F4 in a real browser: in the appointment window the desk refunds part of a card payment
back to the card (over real HTTP to the sandbox bank), and the payment and the appointment's
money show the new state without the page being reloaded."""

import pytest
from playwright.sync_api import expect

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import services
from navbat.payments.models import Refund, RefundState, State
from navbat.uzum_sandbox import bank
from tests.browser.session import connect_sandbox_terminal, log_in
from tests.payments.jobs import start_payment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paid(live_server, salon_a, settings):
    """Salon A's first appointment (100 000 so'm) paid by Uzcard on the sandbox bank."""
    settings.NAVBAT_PUBLIC_URL = live_server.url
    connect_sandbox_terminal(live_server=live_server, salon=salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number="8600000000000018")
    order = services.refresh(order=order)
    assert (order.state, order.paid_amount) == (State.PAID, 10_000_000)
    return order


def test_part_of_a_card_payment_is_refunded_in_the_window(
    page, live_server, salon_a, paid, tmp_path
):
    appointment = salon_a.appointments[0]
    log_in(page, live_server, salon_a.admin)
    page.goto(f"{live_server.url}/appointments/{appointment.pk}/")
    assert page.inner_text("#paid") == "100 000 so'm"
    assert page.inner_text("#payment-state") == "Paid"
    # Set on this page only: a reload would lose it.
    page.evaluate("() => { document.body.dataset.sameVisit = 'yes'; }")

    page.click(f"#refund-order-{paid.pk}")
    page.wait_for_selector("#refund-form")
    assert page.inner_text("#refundable") == "100 000 so'm"
    page.fill("#id_amount", "40 000")
    page.fill("#id_reason", "Shorter cut")
    assert page.is_checked("#id_route_0")  # back to the card
    page.click("#refund-button")

    page.wait_for_selector("#refund-done")
    assert page.inner_text("#refund-done") == "40 000 so'm is given back."
    assert page.inner_text("#refundable") == "60 000 so'm"
    # The money parts refresh themselves.
    expect(page.locator("#paid")).to_have_text("60 000 so'm")
    assert page.inner_text("#due") == "40 000 so'm"
    assert page.inner_text("#payment-state") == "Partly paid"
    row = page.locator(f"#online-payment-{paid.pk}")
    assert row.locator(".badge.partly_refunded").inner_text() == "Partly refunded"
    assert row.locator(".refund-state").inner_text() == "Refunded"
    assert "−40 000 so'm" in row.inner_text()
    assert page.evaluate("() => document.body.dataset.sameVisit") == "yes"
    page.screenshot(path=str(tmp_path / "refunded.png"), full_page=True)

    refund = Refund.objects.get()
    assert (refund.amount, refund.state, refund.bank_operation) == (
        4_000_000,
        RefundState.DONE,
        "refund",
    )
    assert Transaction.objects.filter(kind=TransactionKind.REFUND).count() == 1
