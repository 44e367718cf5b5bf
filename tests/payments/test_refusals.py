"""Payments refuse with the one refusal exception of the house (kit.errors.Refused): a
stable reason for machines and tests, a message for the person, and still a ValidationError
so forms and the API answer it as before."""

import pickle

import pytest
from django.core.exceptions import ValidationError

from navbat.kit.errors import Refused
from navbat.payments import app_payments
from navbat.payments.app_payments import AppPaymentRefused, Refusal
from navbat.payments.services import PaymentRefused


def test_a_refused_payment_is_the_house_refusal_with_a_reason():
    refused = PaymentRefused("This is already paid.", reason="nothing_due")

    assert isinstance(refused, Refused) and isinstance(refused, ValidationError)
    assert (refused.reason, refused.messages) == ("nothing_due", ["This is already paid."])
    copy = pickle.loads(pickle.dumps(refused))  # noqa: S301 - our own bytes
    assert type(copy) is PaymentRefused
    assert (copy.reason, copy.messages) == ("nothing_due", ["This is already paid."])


@pytest.mark.parametrize("reason", list(Refusal))
def test_an_app_refusal_keeps_its_refusal_as_the_reason(reason):
    refused = AppPaymentRefused(reason)

    assert isinstance(refused, Refused) and isinstance(refused, ValidationError)
    assert refused.reason is reason
    assert refused.reason.value == reason.value  # what the Merchant API sends back
    assert refused.messages == [reason.value]
    copy = pickle.loads(pickle.dumps(refused))  # noqa: S301 - our own bytes
    assert type(copy) is AppPaymentRefused
    assert (copy.reason, copy.messages) == (reason, [reason.value])


def test_no_link_is_refused_as_unknown():
    with pytest.raises(AppPaymentRefused) as refused:
        app_payments.payable_of(None)

    assert refused.value.reason is Refusal.UNKNOWN
