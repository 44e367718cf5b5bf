"""An appointment as something payments can take money for (see payments.payables)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from navbat.finance.selectors import paid_subquery
from navbat.kit.tenancy import scoped
from navbat.kit.urls import public_url
from navbat.payments.payables import DueState, PayableLine, PayableView, amount_due

from . import states
from .models import Appointment, CancelledBy, LineKind, OnlineBooking, Source, Status

KIND = "appointment"


def _closed_reason(online: "OnlineBooking | None") -> str:
    if online is not None and online.cancelled_by == CancelledBy.HOLD_ENDED:
        return _(
            "The time was held for the prepayment and has been released. "
            "Book again to choose a time."
        )
    return _("This appointment was cancelled.")


# Before the visit, an online booking's payment page asks its prepayment first; at the
# visit (arrived, completed) or after its time, it asks all that is due, in one payment.
ASKING_PREPAYMENT = (Status.AWAITING_PAYMENT, Status.BOOKED, Status.CONFIRMED)


def asks(prepayment: int, paid: int, *, status: str = "", starts_at=None) -> int | None:
    """What the payment page asks while an online booking's prepayment is not yet paid and
    the visit is still ahead; None (all that is due) otherwise, or when nothing was asked
    in advance."""
    if prepayment <= 0 or paid >= prepayment:
        return None
    if status not in ASKING_PREPAYMENT or (starts_at is not None and starts_at <= timezone.now()):
        return None
    return prepayment - paid


def _online_of(appointment: Appointment) -> OnlineBooking | None:
    """The appointment's online booking (selected with it), or None for a desk booking."""
    try:
        return appointment.online
    except OnlineBooking.DoesNotExist:
        return None


class AppointmentPayable:
    kind = KIND
    label = gettext_lazy("Appointment")

    def admin_url(self, *, payable_id: int) -> str:
        return reverse("booking:appointment", args=[payable_id])

    def describe(self, *, business, payable_id: int) -> PayableView | None:
        # What was paid comes in the same query (the Quick Payment page and its polls ask
        # this on every view).
        appointment = (
            scoped(Appointment, business)
            .select_related("business", "location", "specialist", "client", "document", "online")
            .annotate(paid=paid_subquery(business=business, document_ref="document_id"))
            .filter(pk=payable_id)
            .first()
        )
        if appointment is None:
            return None
        lines = []
        for line in appointment.lines.select_related("service", "product").all():
            item = line.service if line.kind == LineKind.SERVICE else line.product
            lines.append(
                PayableLine(
                    title=line.title,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    discount=line.discount,
                    amount=line.amount,
                    item_ref=f"{line.kind}-{item.pk}",
                    ikpu_code=item.ikpu_code,
                    package_code=item.package_code,
                    vat_percent=item.vat_percent,
                )
            )
        cancelled = appointment.status == Status.CANCELLED
        online = _online_of(appointment)
        return PayableView(
            kind=KIND,
            id=appointment.pk,
            business=appointment.business,
            document=appointment.document,
            client=appointment.client,
            # An online booking is made by whoever typed a phone: its page and the bank
            # never show the name the salon keeps for that phone.
            headline=(
                _("Online booking at %(salon)s") % {"salon": appointment.business.name}
                if online is not None
                else appointment.document.title
            ),
            place_name=appointment.business.name,
            place_address=appointment.location.address,
            person=appointment.specialist.name,
            starts_at=appointment.starts_at,
            time_zone=appointment.location.timezone,
            total=appointment.total,
            paid=appointment.paid,
            lines=tuple(lines),
            is_open=not cancelled,
            closed_reason=_closed_reason(online) if cancelled else "",
            delivered=appointment.status == Status.COMPLETED,
            asks=asks(
                appointment.prepayment,
                appointment.paid,
                status=appointment.status,
                starts_at=appointment.starts_at,
            ),
            channel="booking" if appointment.source == Source.ONLINE else "",
            back_url=(
                public_url("booking_public:manage", token=online.manage_token) if online else ""
            ),
            back_label=_("Back to your booking") if online else "",
        )

    def due_state(self, *, business, payable_id: int) -> DueState | None:
        # The watch polls this every few seconds per open page: status, total and what was
        # paid in one statement, none of the rows the full description joins.
        row = (
            scoped(Appointment, business)
            .filter(pk=payable_id)
            .annotate(paid=paid_subquery(business=business, document_ref="document_id"))
            .values_list("status", "total", "paid", "prepayment", "starts_at")
            .first()
        )
        if row is None:
            return None
        status, total, paid, prepayment, starts_at = row
        asked = asks(prepayment, paid, status=status, starts_at=starts_at)
        due = amount_due(total=total, paid=paid, asks=asked)
        return DueState(is_open=status != Status.CANCELLED, due=due)

    def on_paid(self, *, business, payable_id: int, order) -> None:
        """A paid booking is as good as confirmed: the client committed money to it. A
        prepayment ends its hold; one that came after the hold ended is settled by
        ``holds.prepayment_arrived`` (booked again, or given back)."""
        appointment = self._locked(business, payable_id)
        if appointment is None:
            return
        if appointment.source == Source.ONLINE and appointment.status in (
            Status.AWAITING_PAYMENT,
            Status.CANCELLED,
        ):
            from .holds import prepayment_arrived

            prepayment_arrived(appointment=appointment, order=order)
            return
        if appointment.status == Status.BOOKED:
            states.MACHINE.move(appointment, Status.CONFIRMED)
            appointment.save(update_fields=["status", "updated_at"])

    def on_refunded(self, *, business, payable_id: int, order) -> None:
        """Money given back changes what the appointment owes, and that is read from the
        books (the refund is written first), so there is nothing to store. Its status stays
        the salon's decision: a refund does not un-confirm a visit someone may have confirmed
        by phone, and locking the appointment here would come after the finance rows the
        reversal locked, against payments/locks.py's order."""

    def on_expired(self, *, business, payable_id: int, order) -> None:
        """An attempt no one paid ended: no money moved, so the appointment, what it owes
        and its payment link stay as they are (the client may pay again)."""

    @staticmethod
    def _locked(business, payable_id: int) -> Appointment | None:
        return scoped(Appointment, business).select_for_update().filter(pk=payable_id).first()
