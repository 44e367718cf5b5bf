"""A payable gives payments its own administration page and name: payments' pages link to
what was paid for without naming another room's URLs."""

import pytest

from navbat.payments import payables
from navbat.payments.models import PaymentOrder


def test_an_appointment_names_its_page_and_itself():
    assert payables.admin_url(kind="appointment", payable_id=41) == "/appointments/41/"
    assert payables.label("appointment") == "Appointment"


def test_a_kind_no_room_registers_has_no_page():
    assert payables.admin_url(kind="certificate", payable_id=41) == ""
    assert payables.label("certificate") == "certificate"


def test_an_order_links_to_what_it_pays_for():
    order = PaymentOrder(payable_kind="appointment", payable_id=7)
    assert (order.payable_url, order.payable_label) == ("/appointments/7/", "Appointment")
    assert PaymentOrder(payable_kind="gone", payable_id=7).payable_url == ""


@pytest.mark.django_db
def test_finance_menu_lists_online_payments_and_reconciliation_for_owners(salon_a, login):
    owner = login(salon_a.owner).get("/finance/transactions/").content.decode()
    admin = login(salon_a.admin).get("/finance/transactions/").content.decode()
    for page in (owner, admin):
        assert 'href="/payments/"' in page
    assert 'id="nav-reconciliation"' in owner
    assert 'id="nav-reconciliation"' not in admin
    # The payments pages share finance's menu, registers included.
    payments = login(salon_a.owner).get("/payments/").content.decode()
    assert 'href="/finance/registers/"' in payments
    assert 'class="active" aria-current="page">Online payments' in payments
