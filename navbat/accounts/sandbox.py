"""The business a navbat user acts for at the built-in sandbox bank.

The sandbox knows owners only as opaque strings (``navbat.kit.sandbox_tokens``); this is
where navbat says which string is which business. Only a business's owners act for it
there: the sandbox hands out the business's test keys and switches faults on its terminal.
"""

from .models import Role


def sandbox_owner(business_id: int) -> str:
    """The business's name at the sandbox: its terminals and services carry it."""
    return f"business-{int(business_id)}"


def sandbox_owner_of_request(request) -> str | None:
    """``NAVBAT_SANDBOX_OWNER_OF_REQUEST``: the logged-in owner's business, else None. The
    membership is the one ``salons.middleware.BusinessMiddleware`` chose for the request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    membership = getattr(request, "membership", None)
    if membership is None or membership.role != Role.OWNER:
        return None
    return sandbox_owner(membership.business_id)
