"""What the Quick Payment page offers (payments/offers.py) and the provider's words for it:
payments names no bank itself."""

import pytest

from navbat.payments import offers, payables, providers
from navbat.payments import services as payments
from navbat.payments.models import Method, PaymentOrder

pytestmark = pytest.mark.django_db


def _offer(salon, appointment):
    link = payments.link_for(business=salon.business, kind="appointment", payable_id=appointment.pk)
    view = payables.describe(business=salon.business, kind="appointment", payable_id=appointment.pk)
    return offers.offer_for(link=link, view=view)


def test_cards_only_where_the_business_takes_only_cards(salon_a, connect_uzum):
    connect_uzum(salon_a)
    offer = _offer(salon_a, salon_a.appointments[0])
    assert (offer.card, offer.app_url, offer.installments) == (True, "", False)
    assert offer.presentation.card_hint == (
        "Uzcard, Humo, Visa, MasterCard. You will enter the card on Uzum Bank's secure page."
    )


def test_nothing_is_offered_without_a_connection(salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    connection.is_active = False
    connection.save(update_fields=["is_active"])
    offer = _offer(salon_a, salon_a.appointments[0])
    assert (offer.card, offer.app_url, offer.presentation) == (False, "", None)


def test_the_app_is_offered_with_the_provider_s_words(salon_a, connect_uzum):
    connect_uzum(
        salon_a,
        app_payments=True,
        installments=True,
        merchant_service_id=100777,
        merchant_login="login",
        merchant_password="password",
    )
    offer = _offer(salon_a, salon_a.appointments[0])
    assert offer.card is True
    assert "serviceId=100777" in offer.app_url
    assert offer.installments is True
    assert offer.presentation.pay_in_app == "Pay in the Uzum Bank app"


def test_the_provider_names_its_methods_and_payments_does_not():
    assert str(Method.APP.label) == "Bank app"
    assert providers.method_label(provider="uzum", method=Method.APP) == "Uzum Bank app"
    assert providers.method_label(provider="uzum", method=Method.CARD) == "Card payment"
    assert providers.method_label(provider="gone", method=Method.APP) == "Bank app"
    order = PaymentOrder(provider="uzum", method=Method.APP)
    assert order.method_label == "Uzum Bank app"


def test_the_provider_gives_its_tariffs_and_its_name():
    provider = providers.get("uzum")
    assert provider.presentation().display_name == "Uzum Bank"
    terms = provider.default_fee_terms()
    assert len(terms) == 14
    assert {(t.card_kind, t.rate_bp) for t in terms if t.valid_from is None} == {
        ("uzum_visa", 0),
        ("uzcard", 40),
        ("humo", 40),
        ("installment", 300),
        ("visa", 100),
        ("mastercard", 100),
        ("other", 100),
    }
