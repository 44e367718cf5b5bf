"""Integrations → Uzum Bank: whether the bank returns its fee on refunds and on reversals
(the connection's fee schedule), with the default stated; owners change it, others see it."""

import html

import pytest

from navbat.finance.models import FeeSchedule

pytestmark = pytest.mark.django_db

DEFAULT = (
    "By default the fee is kept by the bank when a completed payment is refunded, and "
    "returned when a payment is reversed"
)


def text(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def test_the_owner_sees_the_default_and_changes_it(salon_a, login, connect_uzum):
    connection = connect_uzum(salon_a)
    client = login(salon_a.owner)
    body = text(client.get("/integrations/uzum/"))
    assert DEFAULT in body
    assert 'name="fee_returned_on_refund" id="id_fee_returned_on_refund"' in body
    assert 'name="fee_returned_on_reversal" id="id_fee_returned_on_reversal" checked' in body

    response = client.post("/integrations/uzum/fee-return", {"fee_returned_on_refund": "on"})
    assert (response.status_code, response["Location"]) == (302, "/integrations/uzum/")
    schedule = FeeSchedule.objects.get(pk=connection.fee_schedule_id)
    assert (schedule.fee_returned_on_refund, schedule.fee_returned_on_reversal) == (True, False)


@pytest.mark.parametrize("role", ["admin", "specialist_user"])
def test_others_cannot_change_it(salon_a, login, connect_uzum, role):
    connection = connect_uzum(salon_a)
    client = login(getattr(salon_a, role))
    response = client.post("/integrations/uzum/fee-return", {"fee_returned_on_refund": "on"})
    assert response.status_code == 403
    schedule = FeeSchedule.objects.get(pk=connection.fee_schedule_id)
    assert (schedule.fee_returned_on_refund, schedule.fee_returned_on_reversal) == (False, True)


def test_an_administrator_reads_the_setting(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    body = text(login(salon_a.admin).get("/integrations/uzum/"))
    assert DEFAULT in body
    assert 'id="fee-return-form"' not in body
    assert "Refund of a completed payment: the bank keeps the fee" in body
    assert "Reversal: the fee comes back" in body
