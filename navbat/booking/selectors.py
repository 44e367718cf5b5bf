"""Reads of appointments: the day journal, one appointment with its money, histories."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.finance.models import PaymentState, Transaction, TransactionKind
from navbat.finance.selectors import paid_amount, paid_subquery, payment_state
from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import day_bounds, local_datetime, to_local
from navbat.payments.models import Method, PaymentLink, PaymentOrder, Refund, RefundState
from navbat.payments.selectors import duplicate_notice
from navbat.payments.states import REFUND_IN_FLIGHT, SETTLED_STATES
from navbat.salons.models import Location, Specialist
from navbat.salons.selectors import specialists, working_windows

from .models import (
    Appointment,
    AppointmentLine,
    CancelledBy,
    LatePayment,
    OnlineBooking,
    Source,
    Status,
)
from .payables import KIND as PAYABLE_KIND
from .states import MACHINE

PIXELS_PER_MINUTE = 1  # one hour is 60px tall in the journal grid
DEFAULT_DAY = (time(8, 0), time(21, 0))


def appointments(
    *,
    business,
    date_from: date | None = None,
    date_to: date | None = None,
    specialist_id: int | None = None,
    location_id: int | None = None,
    client_id: int | None = None,
    status: str = "",
    tz_name: str | None = None,
) -> QuerySet[Appointment]:
    rows = (
        scoped(Appointment, business)
        .select_related("client", "specialist", "location", "document")
        .annotate(paid=paid_subquery(business=business, document_ref="document_id"))
    )
    if date_from:
        rows = rows.filter(starts_at__gte=day_bounds(date_from, tz_name)[0])
    if date_to:
        rows = rows.filter(starts_at__lt=day_bounds(date_to, tz_name)[1])
    if specialist_id:
        rows = rows.filter(specialist_id=specialist_id)
    if location_id:
        rows = rows.filter(location_id=location_id)
    if client_id:
        rows = rows.filter(client_id=client_id)
    if status:
        rows = rows.filter(status=status)
    return rows


@dataclass
class Money:
    total: int
    paid: int
    due: int
    state: str

    @property
    def state_label(self) -> str:
        """The payment state in the reader's language (unpaid, partly paid, paid, overpaid)."""
        return str(PaymentState(self.state).label)


def money(*, total: int, paid: int) -> Money:
    return Money(
        total=total,
        paid=paid,
        due=max(total - paid, 0),
        state=payment_state(amount_due=total, paid=paid),
    )


def money_of(appointment: Appointment) -> Money:
    paid = getattr(appointment, "paid", None)
    if paid is None:
        paid = paid_amount(document=appointment.document)
    return money(total=appointment.total, paid=paid)


def lines_of(appointment: Appointment) -> QuerySet[AppointmentLine]:
    return scoped(AppointmentLine, appointment.business).filter(appointment=appointment)


@dataclass
class Block:
    appointment: Appointment
    top: int
    height: int
    money: Money
    starts_local: datetime
    ends_local: datetime
    online: "OnlineMark | None" = None  # an online booking's mark


@dataclass
class Lane:
    specialist: Specialist
    blocks: list[Block] = field(default_factory=list)
    working: tuple[int, int] | None = None  # top and height of the working hours band


@dataclass
class Journal:
    location: Location
    day: date
    hours: list[time]
    lanes: list[Lane]
    height: int


def _day_range(location: Location, day: date) -> tuple[time, time]:
    hours = (location.opening_hours or {}).get(str(day.weekday()))
    if hours and len(hours) == 2:
        try:
            return time.fromisoformat(hours[0]), time.fromisoformat(hours[1])
        except ValueError:
            return DEFAULT_DAY
    return DEFAULT_DAY


def journal(
    *, business, location: Location, day: date, only_specialist_id: int | None = None
) -> Journal:
    """The grid of one local day at one location: specialists as columns, appointments as blocks."""
    tz_name = location.timezone
    first, last = _day_range(location, day)
    first = time(min(first.hour, 23))
    last_hour = min(last.hour + (1 if last.minute else 0), 24)
    grid_start = local_datetime(day, first, tz_name)
    hours = [time(h) for h in range(first.hour, last_hour)]
    height = len(hours) * 60 * PIXELS_PER_MINUTE

    staff = specialists(business=business, location=location, active_only=True)
    if only_specialist_id is not None:
        staff = staff.filter(pk=only_specialist_id)
    lanes = {s.pk: Lane(specialist=s) for s in staff}
    windows = working_windows(business=business, specialist_ids=list(lanes), day=day)
    for lane in lanes.values():
        window = windows[lane.specialist.pk]
        if window:
            top = int((local_datetime(day, window[0], tz_name) - grid_start).total_seconds() // 60)
            bottom = int(
                (local_datetime(day, window[1], tz_name) - grid_start).total_seconds() // 60
            )
            lane.working = (max(top, 0), max(min(bottom, height) - max(top, 0), 0))

    rows = (
        appointments(
            business=business, date_from=day, date_to=day, location_id=location.pk, tz_name=tz_name
        )
        .filter(specialist_id__in=list(lanes))
        .select_related("online")  # the online booking's mark, in the same statement
    )
    now = timezone.now()
    for appointment in rows:
        start_min = (appointment.starts_at - grid_start).total_seconds() / 60
        length = (appointment.ends_at - appointment.starts_at).total_seconds() / 60
        top = max(int(start_min), 0)
        lanes[appointment.specialist_id].blocks.append(
            Block(
                appointment=appointment,
                top=top * PIXELS_PER_MINUTE,
                height=max(int(length), 20) * PIXELS_PER_MINUTE,
                money=money_of(appointment),
                starts_local=to_local(appointment.starts_at, tz_name),
                ends_local=to_local(appointment.ends_at, tz_name),
                online=online_mark(appointment, paid=appointment.paid, now=now),
            )
        )
    return Journal(
        location=location, day=day, hours=hours, lanes=list(lanes.values()), height=height
    )


def neighbour_days(day: date) -> tuple[date, date]:
    return day - timedelta(days=1), day + timedelta(days=1)


# ---- online payments of appointments ------------------------------------------------------


def payment_link_of(*, appointment: Appointment) -> PaymentLink | None:
    """The appointment's payment link when one was sent (there is at most one)."""
    return (
        scoped(PaymentLink, appointment.business)
        .filter(payable_kind=PAYABLE_KIND, payable_id=appointment.pk)
        .select_related("created_by")
        .first()
    )


def online_payments_of(*, appointment: Appointment) -> QuerySet[PaymentOrder]:
    """Every attempt to pay the appointment online, newest first, whatever came of it."""
    return scoped(PaymentOrder, appointment.business).filter(
        payable_kind=PAYABLE_KIND, payable_id=appointment.pk
    )


def online_payments_with_refunds(*, appointment: Appointment) -> QuerySet[PaymentOrder]:
    """``online_payments_of`` with each order's refunds, newest first (``order.refunds.all``)."""
    refunds = scoped(Refund, appointment.business).order_by("-created_at", "-id")
    return online_payments_of(appointment=appointment).prefetch_related(
        Prefetch("refunds", queryset=refunds)
    )


@dataclass
class Duplicate:
    """A payment made after another had already paid the same link (``duplicate_of``)."""

    order: PaymentOrder
    amount: int  # given back, on its way, or to give back (payments.selectors.duplicate_notice)
    state: str  # payments.selectors.Twice: given_back, giving_back, to_give_back

    @property
    def by_card(self) -> bool:
        return self.order.method == Method.CARD


def duplicates_among(orders) -> list[Duplicate]:
    """The duplicates among an appointment's orders, with where their money is (payments
    decides: ``duplicate_notice``); a card one is refunded automatically, an app one waits
    for the salon."""
    found = []
    for order in orders:
        if order.duplicate_of_id is None or order.state not in SETTLED_STATES:
            continue
        notice = duplicate_notice(order)
        found.append(Duplicate(order=order, amount=notice.amount, state=notice.state))
    return found


LINK_CANCELLED = "appointment_cancelled"
LINK_NOT_CONNECTED = "payments_not_connected"
LINK_NOTHING_DUE = "nothing_due"


def payment_link_refusal(*, appointment: Appointment, money: Money, account) -> tuple[str, str]:
    """Why no payment link can be sent for the appointment now: ``(code, message)``, or
    ``("", "")`` when one can. ``account`` is the business's active payment connection
    (``payments.providers.active_account``)."""
    if appointment.status == Status.CANCELLED:
        return LINK_CANCELLED, _("This appointment was cancelled: there is nothing to pay.")
    if account is None or not account.methods:
        return LINK_NOT_CONNECTED, _("Connect a bank to send payment links.")
    if money.due <= 0:
        return LINK_NOTHING_DUE, _("Nothing is due on this appointment.")
    return "", ""


@dataclass
class Overpayment:
    """More was paid than the appointment costs (two payments raced, or the bill shrank)."""

    amount: int
    order: PaymentOrder | None  # the online payment that went over, when it was one
    transaction: Transaction | None  # otherwise the latest payment in the books


def overpayment_of(*, appointment: Appointment, money: Money) -> Overpayment | None:
    if money.state != PaymentState.OVERPAID:
        return None
    order = (
        online_payments_of(appointment=appointment)
        .filter(state__in=SETTLED_STATES)
        .order_by("-paid_at", "-id")
        .first()
    )
    latest = None
    if order is None:
        latest = (
            scoped(Transaction, appointment.business)
            .filter(document_id=appointment.document_id, kind=TransactionKind.SALE_PAYMENT)
            .select_related("register")
            .order_by("-occurred_at", "-id")
            .first()
        )
    return Overpayment(amount=money.paid - money.total, order=order, transaction=latest)


def payment_links_of_client(*, business, client_id: int) -> QuerySet[PaymentLink]:
    """Payment links sent for the client's appointments, newest first, each annotated with
    the appointment's start (``appointment_starts_at``)."""
    visits = scoped(Appointment, business).filter(client_id=client_id)
    starts = visits.filter(pk=OuterRef("payable_id")).values("starts_at")[:1]
    return (
        scoped(PaymentLink, business)
        .filter(payable_kind=PAYABLE_KIND, payable_id__in=visits.values("pk"))
        .select_related("created_by")
        .annotate(appointment_starts_at=Subquery(starts))
        .order_by("-created_at", "-id")
    )


def online_payments_of_client(*, business, client_id: int) -> QuerySet[PaymentOrder]:
    """Online payments (settled ones) for the client's appointments, newest first."""
    visits = scoped(Appointment, business).filter(client_id=client_id)
    return (
        scoped(PaymentOrder, business)
        .filter(
            payable_kind=PAYABLE_KIND,
            payable_id__in=visits.values("pk"),
            state__in=SETTLED_STATES,
        )
        .order_by("-paid_at", "-id")
    )


def next_statuses(appointment: Appointment) -> list[tuple[str, str]]:
    """The statuses the desk may move ``appointment`` to now, as ``(value, label)`` in the
    order of Status (booking.states decides which)."""
    return [
        (value, label)
        for value, label in Status.choices
        if MACHINE.allows(appointment.status, value)
    ]


# ---- online bookings: what the journal and the window show of them (F6) --------------------


def _online_row(appointment: Appointment) -> OnlineBooking | None:
    """The appointment's online booking, read with it (``select_related("online")``) or
    asked for; None for a desk booking."""
    try:
        return appointment.online
    except OnlineBooking.DoesNotExist:
        return None


def minutes_left(hold_until: datetime | None, now: datetime) -> int:
    """Whole minutes (rounded up) until a hold ends; 0 once it has."""
    if hold_until is None or hold_until <= now:
        return 0
    return int((hold_until - now).total_seconds() + 59) // 60


# What became of a prepayment that came after its booking was cancelled, as shown: the
# stored decision, and for one going back, whether it is back yet.
LATE_REINSTATED = "reinstated"
LATE_REFUNDING = "refunding"
LATE_REFUNDED = "refunded"
LATE_TO_GIVE_BACK = "to_give_back"


def _late_shown(stored: str, *, paid: int, to_give_back: bool) -> str:
    if not stored:
        return ""
    if stored == LatePayment.REINSTATED:
        return LATE_REINSTATED
    if paid <= 0:
        return LATE_REFUNDED
    return LATE_TO_GIVE_BACK if to_give_back else LATE_REFUNDING


@dataclass
class OnlineMark:
    """What the journal shows of an online booking, from the appointment's own row and its
    online booking read with it (no query of its own)."""

    prepayment: int  # asked in advance
    prepaid: int  # paid so far (the books, refunds taken off)
    awaiting: bool
    hold_until: datetime | None  # local
    minutes_left: int
    cancelled_by: str
    late: str  # LATE_*

    @property
    def cancelled_label(self) -> str:
        return str(CancelledBy(self.cancelled_by).label) if self.cancelled_by else ""


def online_mark(appointment: Appointment, *, paid: int, now: datetime) -> OnlineMark | None:
    if appointment.source != Source.ONLINE:
        return None
    extra = _online_row(appointment)
    awaiting = appointment.status == Status.AWAITING_PAYMENT
    tz_name = appointment.location.timezone
    return OnlineMark(
        prepayment=appointment.prepayment,
        prepaid=max(paid, 0),
        awaiting=awaiting,
        hold_until=to_local(appointment.hold_until, tz_name) if awaiting else None,
        minutes_left=minutes_left(appointment.hold_until, now) if awaiting else 0,
        # A booking the desk restored after a cancellation no longer reads cancelled.
        cancelled_by=extra.cancelled_by if extra and appointment.status == Status.CANCELLED else "",
        late=_late_shown(
            extra.late_payment if extra else "",
            paid=paid,
            to_give_back=bool(extra) and extra.late_payment == LatePayment.TO_GIVE_BACK,
        ),
    )


GIVEN_BACK = "given_back"
GIVING_BACK = "giving_back"
TO_GIVE_BACK = "to_give_back"


@dataclass
class GiveBack:
    """One online payment of a cancelled booking whose money goes back to the client."""

    order: PaymentOrder
    held: int  # still with the salon
    state: str  # GIVEN_BACK, GIVING_BACK (a refund on its way, or the job's), TO_GIVE_BACK
    refusal: str = ""  # why the bank cannot send it (the salon gives it back)


@dataclass
class OnlineView:
    """What the appointment window shows of an online booking."""

    extra: OnlineBooking
    mark: OnlineMark
    comment: str
    held: int  # what its online payments still hold
    due_back: int  # what is still to go back to the client (0: nothing, or all back)
    kept: int  # what the cancellation left with the salon
    give_back: list[GiveBack]
    to_give_back: int  # of ``due_back``, what the salon must give back itself

    @property
    def giving_back(self) -> int:
        return self.due_back - self.to_give_back


def _refunded_since(orders: list[PaymentOrder], moment: datetime | None) -> int:
    """Refunds of ``orders`` asked at or after ``moment`` that are done or on their way."""
    if moment is None:
        return 0
    return sum(
        refund.amount
        for order in orders
        for refund in order.refunds.all()
        if refund.created_at >= moment
        and (refund.state == RefundState.DONE or refund.state in REFUND_IN_FLIGHT)
    )


def _give_back_row(order: PaymentOrder) -> GiveBack:
    """Where one payment's money is: back, on its way (a refund at the bank, or the job's
    about to be sent: a card payment whose automatic refund did not fail), or with the salon
    to give back (the bank cannot send it, or its automatic refund failed)."""
    from navbat.payments import providers

    held = order.paid_amount - order.refunded_amount
    refunds = list(order.refunds.all())
    if held <= 0:
        return GiveBack(order=order, held=0, state=GIVEN_BACK)
    if any(refund.state in REFUND_IN_FLIGHT for refund in refunds):
        return GiveBack(order=order, held=held, state=GIVING_BACK)
    refusal = providers.get(order.provider).refund_refusal(order=order, amount=held)
    failed = any(r.state == RefundState.FAILED and r.automatic for r in refunds)
    if not refusal and not failed:
        return GiveBack(order=order, held=held, state=GIVING_BACK)  # the job's, queued
    return GiveBack(order=order, held=held, state=TO_GIVE_BACK, refusal=refusal)


def online_view(
    *, appointment: Appointment, orders: list[PaymentOrder], money: Money, now: datetime
) -> OnlineView | None:
    """The window's view of an online booking: its hold, its prepayment, the client's
    comment, how it was cancelled, and where the money of a cancelled one is (``orders``:
    the appointment's online payments with their refunds, as the window read them)."""
    if appointment.source != Source.ONLINE:
        return None
    extra = (
        scoped(OnlineBooking, appointment.business).filter(appointment_id=appointment.pk).first()
    )
    if extra is None:
        return None
    appointment.online = extra
    mark = online_mark(appointment, paid=money.paid, now=now)
    settled = [order for order in orders if order.state in SETTLED_STATES]
    held = sum(order.paid_amount - order.refunded_amount for order in settled)
    rows, due_back, kept = [], 0, 0
    if appointment.status == Status.CANCELLED:
        if extra.cancelled_by == CancelledBy.HOLD_ENDED and extra.late_payment:
            due_back = held  # a late prepayment of a booking that is over: all of it
        elif extra.refund_decided > 0:
            given = _refunded_since(settled, extra.cancelled_at)
            due_back = min(max(extra.refund_decided - given, 0), held)
        if extra.cancelled_by in (CancelledBy.CLIENT, CancelledBy.SALON):
            kept = held - due_back
        if due_back:
            rows = [_give_back_row(order) for order in settled]
    to_give_back = min(sum(row.held for row in rows if row.state == TO_GIVE_BACK), due_back)
    if mark.late == LATE_REFUNDING and to_give_back:
        mark.late = LATE_TO_GIVE_BACK  # its automatic refund failed at the bank
    return OnlineView(
        extra=extra,
        mark=mark,
        comment=appointment.comment,
        held=held,
        due_back=due_back,
        kept=kept,
        give_back=[row for row in rows if row.held > 0],
        to_give_back=to_give_back,
    )
