""" "Pay by QR" (F5): a checkout point leads, for a while, to one payable's payment link.

The printed code names only the point; the administrator binds the point to the payable
being paid (:func:`bind`), and the client who scans it lands on that payable's Quick Payment
page. One binding is in force per point (the database holds it to that). A binding ends when
released, replaced by another, or — looked at lazily, by whoever reads it next — when the
payable has nothing due ("paid"), can no longer be paid ("closed") or its time is out
("expired"). Ending is one conditional UPDATE: two readers ending the same binding agree.

Locks (payments/locks.py): the point's row, then the link's. Two administrators binding one
point at the same moment queue on the point; the second sees the first's binding.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.kit.errors import Conflict
from navbat.kit.tenancy import scoped
from navbat.salons.checkout_points import code_in_use
from navbat.salons.models import CheckoutPoint, CheckoutPointCode

from . import locks, payables, services
from .models import PaymentLink, PointBinding
from .printing import qr_url


class End:
    RELEASED = "released"
    REPLACED = "replaced"
    PAID = "paid"
    CLOSED = "closed"
    EXPIRED = "expired"


class BindingConflict(Conflict):
    """Binding clashes with how things are (HTTP 409). ``reason``: ``held`` (the point waits
    for another payable: ``held_kind`` / ``held_id``), ``nothing_due``, ``closed``."""

    def __init__(self, message: str, *, reason: str, held_kind: str = "", held_id: int = 0):
        super().__init__(message, code=reason)
        self.reason = reason
        self.held_kind = held_kind
        self.held_id = held_id

    def __reduce__(self):
        message = " ".join(self.messages)
        return (_conflict, (message, self.reason, self.held_kind, self.held_id))


def _conflict(message, reason, held_kind, held_id) -> BindingConflict:
    return BindingConflict(message, reason=reason, held_kind=held_kind, held_id=held_id)


def point_url(point: CheckoutPoint) -> str:
    """The point's QR address, or "" for a point without a code in use (retired)."""
    code = code_in_use(point)
    return qr_url(code.code) if code else ""


# ----------------------------------------------------------------------------- reading


def _end(binding: PointBinding, reason: str, now: datetime) -> bool:
    """End ``binding`` unless someone already did; True when this call ended it."""
    ended = PointBinding.objects.filter(pk=binding.pk, ended_at=None).update(
        ended_at=now, end_reason=reason
    )
    if ended:
        binding.ended_at, binding.end_reason = now, reason
    return bool(ended)


def _stale_reason(binding: PointBinding, now: datetime) -> str:
    """Why ``binding`` is over although nobody ended it; "" while it is in force."""
    if binding.expires_at <= now:
        return End.EXPIRED
    if binding.point.retired_at is not None:
        return End.CLOSED
    link = binding.link
    state = payables.due_state(
        business=link.business, kind=link.payable_kind, payable_id=link.payable_id
    )
    if state is None or not state.is_open:
        return End.CLOSED
    if state.due <= 0:
        return End.PAID
    return ""


def _current(bindings, now: datetime, *, end_stale: bool = True) -> PointBinding | None:
    """The first of ``bindings`` (not ended) still in force; the stale ones are ended, unless
    ``end_stale`` is off (a first look that must not lock a binding row before the point's:
    payments.locks)."""
    for binding in bindings:
        reason = _stale_reason(binding, now)
        if not reason:
            return binding
        if end_stale:
            _end(binding, reason, now)
    return None


def in_force(
    *, point: CheckoutPoint, now: datetime | None = None, end_stale: bool = True
) -> PointBinding | None:
    """The point's binding in force (its link and the link's business read with it)."""
    now = now or timezone.now()
    bindings = (
        PointBinding.objects.filter(point_id=point.pk, ended_at=None)
        .select_related("link", "link__business", "point")
        .order_by("-created_at", "-id")
    )
    return _current(bindings, now, end_stale=end_stale)


def binding_of(
    *, business, kind: str, payable_id: int, now: datetime | None = None
) -> PointBinding | None:
    """The payable's binding in force (the latest, should it wait at two points), with its
    point."""
    now = now or timezone.now()
    bindings = (
        scoped(PointBinding, business)
        .filter(link__payable_kind=kind, link__payable_id=payable_id, ended_at=None)
        .select_related("link", "link__business", "point")
        .order_by("-created_at", "-id")
    )
    return _current(list(bindings), now)


def last_point_id(*, business, user=None) -> int | None:
    """The point this user bound last (or, before their first, anyone in the business)."""
    bindings = scoped(PointBinding, business).order_by("-created_at", "-id")
    if user is not None:
        mine = bindings.filter(bound_by=user).values_list("point_id", flat=True).first()
        if mine is not None:
            return mine
    return bindings.values_list("point_id", flat=True).first()


@dataclass(frozen=True)
class PointNow:
    """A checkout point as the QR page sees it."""

    point: CheckoutPoint
    retired: bool  # the code or the point no longer in use
    binding: PointBinding | None


CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def by_code(code: str, *, now: datetime | None = None) -> PointNow | None:
    """The public entry: the code is the only authority (no business known yet); None for
    a code no point ever had."""
    if not code or not 16 <= len(code) <= 32 or not set(code) <= CODE_CHARS:
        return None
    found = (
        CheckoutPointCode.objects.filter(code=code)
        .select_related("point", "point__business")
        .first()
    )
    if found is None:
        return None
    point = found.point
    if found.retired_at is not None or point.retired_at is not None:
        return PointNow(point=point, retired=True, binding=None)
    return PointNow(point=point, retired=False, binding=in_force(point=point, now=now))


# ----------------------------------------------------------------------------- writing


def _payable_refusal(view: payables.PayableView | None) -> Exception | None:
    if view is None:
        return ValidationError(_("There is nothing to pay here."))
    if not view.is_open:
        return BindingConflict(
            view.closed_reason or _("This can no longer be paid."), reason="closed"
        )
    if view.due <= 0:
        return BindingConflict(_("This is already paid."), reason="nothing_due")
    return None


def _retired(point: CheckoutPoint) -> ValidationError:
    return ValidationError(
        {"checkout_point": [_("This checkout point is retired.")]}, code="retired"
    )


def held_message(point: CheckoutPoint, binding: PointBinding) -> str:
    return _("%(point)s is waiting for the payment of %(what)s #%(id)s.") % {
        "point": point.name,
        "what": payables.label(binding.link.payable_kind),
        "id": binding.link.payable_id,
    }


def _held(point: CheckoutPoint, current: PointBinding) -> BindingConflict:
    return BindingConflict(
        held_message(point, current),
        reason="held",
        held_kind=current.link.payable_kind,
        held_id=current.link.payable_id,
    )


def bind(
    *,
    point: CheckoutPoint,
    kind: str,
    payable_id: int,
    author=None,
    confirm_replace: bool = False,
    location_id: int | None = None,
    now: datetime | None = None,
) -> PointBinding:
    """Lead ``point`` to the payable's payment link for the salon's QR time. Binding the
    payable the point already waits for starts its time again. Raises ValidationError (a
    retired point, nothing to pay) or BindingConflict (paid, closed, or the point waits for
    another payable and ``confirm_replace`` is not given); nothing changes then."""
    business = point.business
    if point.retired_at is not None:
        raise _retired(point)
    if location_id is not None and point.location_id != location_id:
        # A point leads the clients standing at it: another location's would send them to
        # a visit that is not there.
        raise ValidationError(
            {"checkout_point": [_("This checkout point is at another location.")]},
            code="other_location",
        )
    refusal = _payable_refusal(
        payables.describe(business=business, kind=kind, payable_id=payable_id)
    )
    if refusal is not None:
        raise refusal
    if not confirm_replace:
        # Refused before the link is made (a first look, writing nothing; the locked one
        # below decides).
        current = in_force(point=point, now=now, end_stale=False)
        if current is not None and (current.link.payable_kind, current.link.payable_id) != (
            kind,
            payable_id,
        ):
            raise _held(point, current)
    link = services.link_for(business=business, kind=kind, payable_id=payable_id, author=author)
    try:
        with transaction.atomic():
            return _bind_locked(
                point=point, link=link, author=author, confirm_replace=confirm_replace, now=now
            )
    except IntegrityError:
        # Only without row locks (SQLite): another binding of the point got in first.
        current = in_force(point=point)
        if current is None:
            raise
        raise _held(point, current) from None


def _bind_locked(*, point, link, author, confirm_replace, now) -> PointBinding:
    point = locks.lock_point(pk=point.pk)
    link = locks.lock_link(pk=link.pk)
    now = now or timezone.now()
    if point.retired_at is not None:
        raise _retired(point)
    refusal = _payable_refusal(
        payables.describe(
            business=link.business, kind=link.payable_kind, payable_id=link.payable_id
        )
    )
    if refusal is not None:
        raise refusal
    expires_at = now + timedelta(minutes=point.business.qr_pay_minutes)
    current = in_force(point=point, now=now)
    if current is not None and current.link_id == link.pk:
        extended = PointBinding.objects.filter(pk=current.pk, ended_at=None).update(
            expires_at=expires_at, bound_by=author
        )
        if extended:
            current.expires_at, current.bound_by = expires_at, author
            return current
        current = None  # ended meanwhile (a phone found it out of time): a new one
    if current is not None:
        if not confirm_replace:
            raise _held(point, current)
        _end(current, End.REPLACED, now)
    return PointBinding.objects.create(
        business=point.business, point=point, link=link, bound_by=author, expires_at=expires_at
    )


@transaction.atomic
def release(*, point: CheckoutPoint, now: datetime | None = None) -> int:
    """Free the point, under its lock (how many bindings were ended: 0 or 1)."""
    now = now or timezone.now()
    locks.lock_point(pk=point.pk)
    return PointBinding.objects.filter(point_id=point.pk, ended_at=None).update(
        ended_at=now, end_reason=End.RELEASED
    )


def release_payable(*, business, kind: str, payable_id: int, now: datetime | None = None) -> int:
    """Free every point waiting for this payable, each under its point's lock (the lock a
    binding takes: a binding being made or extended there is decided first)."""
    now = now or timezone.now()
    links = scoped(PaymentLink, business).filter(payable_kind=kind, payable_id=payable_id)
    waiting = scoped(PointBinding, business).filter(link__in=links, ended_at=None)
    released = 0
    for point_id in sorted(set(waiting.values_list("point_id", flat=True))):
        with transaction.atomic():
            locks.lock_point(pk=point_id)
            released += waiting.filter(point_id=point_id).update(
                ended_at=now, end_reason=End.RELEASED
            )
    return released
