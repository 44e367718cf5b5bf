"""Which ways to pay the Quick Payment page offers for a link, and on what terms (F2).

Decided here, not in the view: the card when the business takes cards; the bank's app when
it takes app payments, the link is open and something is due — with the app's address and
whether a card payment under way holds it back for now.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from . import links, providers, selectors
from .models import Method, PaymentLink
from .payables import PayableView
from .providers import Presentation


@dataclass(frozen=True)
class Offer:
    card: bool  # "Pay by card" (the bank's hosted page)
    presentation: Presentation | None = None  # what the page says of the provider's methods
    app_url: str = ""  # "Pay in the app": the open-service link; "" when not offered
    installments: bool = False  # the app offers installments too
    # While a card payment is open at the bank the app would be refused: until when.
    card_hold_until: datetime | None = None


def offer_for(*, link: PaymentLink, view: PayableView) -> Offer:
    account = providers.active_account(business=link.business)
    if account is None:
        return Offer(card=False)
    card = Method.CARD in account.methods
    presentation = providers.get(account.provider).presentation()
    if not (Method.APP in account.methods and view.is_open and view.due > 0):
        return Offer(card=card, presentation=presentation)
    if hasattr(link, "last_card_hold"):  # read with the link (the page)
        card_hold_until = selectors.hold_end(link.last_card_hold)
    else:
        card_hold_until = selectors.card_hold_until(link=link, now=timezone.now())
    app_url = providers.get(account.provider).app_link(
        account=account, code=link.code, amount=view.due, return_url=links.link_url(link.token)
    )
    if not app_url:
        return Offer(card=card, presentation=presentation)
    return Offer(
        card=card,
        presentation=presentation,
        app_url=app_url,
        installments=account.installments,
        card_hold_until=card_hold_until,
    )
