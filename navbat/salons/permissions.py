"""What a specialist may see: their own appointments (accounts say who is a specialist,
salons which specialist they are)."""

from navbat.accounts.models import Role


def own_specialist_id(request) -> int | None:
    """The specialist a specialist user is; None for owners and administrators."""
    membership = request.membership
    if membership is not None and membership.role == Role.SPECIALIST:
        # The reverse link raises an AttributeError subclass when no specialist names it.
        specialist = getattr(membership, "specialist", None)
        return specialist.pk if specialist is not None else -1  # no profile: sees nothing
    return None
