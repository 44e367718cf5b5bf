"""Which status of an appointment may follow which (the desk moves it; a payment confirms
it): one table, applied by :func:`navbat.kit.states.Machine.move`."""

from django.utils.translation import gettext as _

from navbat.kit.states import Machine

from .models import Status


def _label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def _explain(current: str, to: str) -> str:
    return _("An appointment cannot go from “%(old)s” to “%(new)s”.") % {
        "old": _label(current),
        "new": _label(to),
    }


ALLOWED: dict[str, frozenset[str]] = {
    # Paid (or let through by the desk) it is booked; unpaid at the end of its hold, or
    # given up by the client or the salon, it is cancelled.
    Status.AWAITING_PAYMENT: frozenset({Status.BOOKED, Status.CONFIRMED, Status.CANCELLED}),
    Status.BOOKED: frozenset(
        {Status.CONFIRMED, Status.ARRIVED, Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED}
    ),
    Status.CONFIRMED: frozenset(
        {Status.BOOKED, Status.ARRIVED, Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED}
    ),
    Status.ARRIVED: frozenset({Status.COMPLETED, Status.CONFIRMED, Status.CANCELLED}),
    Status.COMPLETED: frozenset({Status.ARRIVED}),
    Status.NO_SHOW: frozenset({Status.BOOKED}),
    Status.CANCELLED: frozenset({Status.BOOKED}),
}

MACHINE = Machine(
    name="appointment", field="status", moves=ALLOWED, explain=_explain, error_field="status"
)
