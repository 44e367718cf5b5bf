"""Which ways to pay the Quick Payment page offers for a link, and on what terms (F2).

Decided here, not in the view: the card when the business takes cards; the bank's app when
it takes app payments, the link is open and something is due — with the app's address. A
card page the client left open does not hold the app back (payments.duplicates).
"""

from dataclasses import dataclass

from . import links, providers
from .models import Method, PaymentLink
from .payables import PayableView
from .providers import Presentation


@dataclass(frozen=True)
class Offer:
    card: bool  # "Pay by card" (the bank's hosted page)
    presentation: Presentation | None = None  # what the page says of the provider's methods
    app_url: str = ""  # "Pay in the app": the open-service link; "" when not offered
    installments: bool = False  # the app offers installments too


def offer_for(*, link: PaymentLink, view: PayableView) -> Offer:
    account = providers.active_account(business=link.business)
    if account is None:
        return Offer(card=False)
    card = Method.CARD in account.methods
    presentation = providers.get(account.provider).presentation()
    if not (Method.APP in account.methods and view.is_open and view.due > 0):
        return Offer(card=card, presentation=presentation)
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
    )
