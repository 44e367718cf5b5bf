"""Uzum Bank as people see it: its name, its methods' names, what the Quick Payment page
says about it, and its published fee tariffs (uzum-bank.md §3). Payments and finance get
these through the provider interface and never name the bank themselves."""

from datetime import date

from django.utils.translation import gettext as _

from navbat.finance.models import CardKind
from navbat.payments.models import Method
from navbat.payments.providers import FeeTerm, Presentation

# A proper name: the same in every language (the register and the fee schedule carry it).
DISPLAY_NAME = "Uzum Bank"
# The cards the bank takes at the checkout, as its printed materials name them.
ACCEPTED_CARDS = ("Uzum Visa", "Humo", "Uzcard", "Visa", "MasterCard")

SPECIAL_TERMS_END = date(2025, 12, 31)
STANDARD_FROM = date(2026, 1, 1)

# (card kind, rate until 2025-12-31, rate from 2026-01-01), hundredths of a percent.
TARIFFS: tuple[tuple[str, int, int], ...] = (
    (CardKind.UZUM_VISA, 0, 100),
    (CardKind.UZCARD, 40, 100),
    (CardKind.HUMO, 40, 100),
    (CardKind.INSTALLMENT, 300, 500),
    (CardKind.VISA, 100, 100),
    (CardKind.MASTERCARD, 100, 100),
    (CardKind.OTHER, 100, 100),
)


def presentation() -> Presentation:
    return Presentation(
        display_name=DISPLAY_NAME,
        method_labels={Method.CARD: _("Card payment"), Method.APP: _("Uzum Bank app")},
        card_hint=_(
            "Uzcard, Humo, Visa, MasterCard. You will enter the card on Uzum Bank's secure page."
        ),
        pay_in_app=_("Pay in the Uzum Bank app"),
        app_hint=_("In the app: a card or the Uzum balance."),
        app_hint_installments=_(
            "In the app: a card, the Uzum balance or installments (pay in parts). "
            "The salon receives the whole amount at once."
        ),
        app_qr_hint=_(
            "On a computer? Scan this code with your phone to pay in the Uzum Bank app. "
            "This page updates by itself when the payment is done."
        ),
        accepted_cards=ACCEPTED_CARDS,
        app_name=DISPLAY_NAME,
    )


def default_fee_terms() -> tuple[FeeTerm, ...]:
    """The bank's published terms: the special ones that ended on 2025-12-31, and the
    standard ones from 2026-01-01."""
    terms = []
    for kind, special, standard in TARIFFS:
        terms.append(FeeTerm(card_kind=kind, rate_bp=special, valid_until=SPECIAL_TERMS_END))
        terms.append(FeeTerm(card_kind=kind, rate_bp=standard, valid_from=STANDARD_FROM))
    return tuple(terms)
