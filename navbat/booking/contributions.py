"""What booking shows on the pages of the rooms below it (navbat.kit.slots): a client's
visits and the payment links and online payments of those visits (with their refunds), on
salons' client page."""

from django.db.models import Prefetch

from navbat.kit.tenancy import scoped
from navbat.payments.models import Refund

from . import selectors


def _client_page(context) -> tuple[object, object, int]:
    return context["request"].business, context["client"], context["history_size"]


def client_visits(context) -> dict:
    business, client, size = _client_page(context)
    visits = selectors.appointments(business=business, client_id=client.pk).order_by(
        "-starts_at", "-id"
    )
    return {
        "visits": [(visit, selectors.money_of(visit)) for visit in visits[:size]],
        "visit_count": visits.count(),
    }


def client_payment_links(context) -> dict:
    business, client, size = _client_page(context)
    return {
        "payment_links": selectors.payment_links_of_client(business=business, client_id=client.pk)[
            :size
        ],
        "online_payments": selectors.online_payments_of_client(
            business=business, client_id=client.pk
        ).prefetch_related(
            Prefetch("refunds", queryset=scoped(Refund, business).order_by("-created_at", "-id"))
        )[:size],
    }
