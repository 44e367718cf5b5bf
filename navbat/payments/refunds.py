"""Refunds (F4): money given back for a paid order, provider-neutral.

Three routes (``RefundRoute``):

* **bank** — the provider sends it back to the card. The refund is stored with its
  ``operation_key`` and committed, the provider is called with that key (no lock held), and
  its answer applied under the order's lock. A lost answer is settled by asking the
  provider what became of that key (:func:`settle`), never by refunding again.
* **register** — the salon gives it back from a register of its own (cash, card terminal):
  booked at once.
* **bank_reversal** — the bank took a payment of its app back (the Merchant API's
  ``/reverse``, :func:`book_bank_reversal`); the salon may have asked for it first
  (:func:`ask_bank_reversal`).

One refund at a time per order (a database constraint), never more than was paid minus what
was refunded; every state change through ``states.refund_transition`` and the order's through
``states.book_refund``.
"""

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.finance.models import CashRegister
from navbat.kit.bankcalls import bank_call
from navbat.kit.errors import Conflict
from navbat.kit.money import MAX_AMOUNT_TIYIN, format_money
from navbat.kit.tenancy import scoped

from . import duplicates, locks, providers
from .models import Method, PaymentOrder, Refund, RefundRoute, RefundState, State
from .providers import ProviderError, ProviderUnavailable, RefundOutcome
from .refund_books import book as _book
from .states import REFUND_IN_FLIGHT, SETTLED_STATES, refund_transition

log = logging.getLogger("navbat.payments")

REFUNDABLE_STATES = frozenset({State.PAID, State.PARTLY_REFUNDED})
REASON_MAX = 300
# A repeat of a request whose bank call is under way waits for its answer (within a web
# worker's usual time limit) so that every repeat answers the same.
REPEAT_WAIT = timedelta(seconds=20)
FIRST_CHECK_AFTER = timedelta(seconds=30)
MAX_CHECK_INTERVAL = timedelta(minutes=30)
# A refund still "requested" this long after it was stored is no longer being sent by the
# request that stored it (a bank call and its retries end within minutes; the process may
# have died): only then may anyone else ask the bank what became of it. Before, "the bank
# has no such operation" may only mean the request has not reached it yet.
STALE_REQUEST = timedelta(minutes=10)


class RefundConflict(Conflict):
    """The refund clashes with the payment as it is now (HTTP 409 in the API); ``reason``:
    ``not_paid``, ``nothing_left``, ``too_much``, ``in_flight``, ``key_reused``,
    ``provider_cannot``, ``bank_reversed``, ``given_back``."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message, code=reason)
        self.reason = reason

    def __reduce__(self):
        return (_conflict, (" ".join(self.messages), self.reason))


def _conflict(message: str, reason: str) -> RefundConflict:
    return RefundConflict(message, reason=reason)


@dataclass(frozen=True)
class Requested:
    refund: Refund
    created: bool  # False: an earlier request with the same key, answered again


# ------------------------------------------------------------------------------ reads


def in_flight_amount(order: PaymentOrder) -> int:
    rows = scoped(Refund, order.business).filter(order=order, state__in=REFUND_IN_FLIGHT)
    return rows.aggregate(total=Sum("amount"))["total"] or 0


def refundable_amount(order: PaymentOrder) -> int:
    """What may still be given back: paid, less what was refunded and what is on its way."""
    if order.state not in REFUNDABLE_STATES:
        return 0
    return max(order.paid_amount - order.refunded_amount - in_flight_amount(order), 0)


# ------------------------------------------------------------------------ the request


def clean_amount(amount) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError({"amount": _("The amount must be a whole number of tiyin.")})
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if amount > MAX_AMOUNT_TIYIN:
        raise ValidationError({"amount": _("The amount is larger than any payment.")})
    return amount


def clean_reason(reason) -> str:
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationError({"reason": _("Say why the money is given back.")})
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {"reason": _("Keep the reason under %(count)d characters.") % {"count": REASON_MAX}}
        )
    return reason


def _digest(*, amount: int, reason: str, route: str, register_id) -> str:
    """What a request asked, in 64 characters: the whole of it counts (a reason that
    differs only at its end is another request)."""
    asked = f"{amount}|{route}|{register_id or ''}|{reason}"
    return hashlib.sha256(asked.encode()).hexdigest()


def _check(order: PaymentOrder, amount: int, route: str) -> None:
    """Under the order's lock: whether ``amount`` may leave by ``route`` now."""
    if order.state not in REFUNDABLE_STATES:
        if order.state == State.REFUNDED:
            raise RefundConflict(
                _("This payment is already refunded in full."), reason="nothing_left"
            )
        raise RefundConflict(
            _("This payment was not paid: there is nothing to refund."), reason="not_paid"
        )
    flying = scoped(Refund, order.business).filter(order=order, state__in=REFUND_IN_FLIGHT).first()
    if flying is not None:
        if flying.route == RefundRoute.BANK_REVERSAL:
            message = _(
                "Uzum Bank was asked to reverse this payment; wait for it, or withdraw the request."
            )
        else:
            message = _("A refund of this payment is under way; wait until it is finished.")
        raise RefundConflict(message, reason="in_flight")
    left = order.paid_amount - order.refunded_amount
    if left <= 0:
        raise RefundConflict(_("This payment is already refunded in full."), reason="nothing_left")
    if amount > left:
        raise RefundConflict(
            _("At most %(amount)s can be refunded.") % {"amount": format_money(left)},
            reason="too_much",
        )
    if route == RefundRoute.BANK:
        refusal = providers.get(order.provider).refund_refusal(order=order, amount=amount)
        if refusal:
            raise RefundConflict(refusal, reason="provider_cannot")


def _register_for(order: PaymentOrder, route: str, register_id) -> CashRegister:
    account = providers.get(order.provider).account_by_id(account_id=order.account_id)
    if route != RefundRoute.REGISTER:
        return account.register
    register = scoped(CashRegister, order.business).filter(pk=register_id, is_active=True).first()
    if register is None or register.pk == account.register.pk:
        raise ValidationError({"register": _("Choose the register the money is given from.")})
    return register


def _request(
    *,
    business,
    order_id: int,
    amount: int,
    reason: str,
    route: str,
    register_id,
    author,
    idempotency_key: str,
    automatic: bool,
    at_most_overpaid: bool = False,
) -> Requested:
    digest = _digest(amount=amount, reason=reason, route=route, register_id=register_id)
    with transaction.atomic():
        order = scoped(PaymentOrder, business).filter(pk=order_id).first()
        if order is None:
            raise PaymentOrder.DoesNotExist
        if order.link_id is not None:
            # The link first (payments.locks): refunds of two orders of one link (a payment
            # made twice and the one it repeated) are decided one after the other.
            locks.lock_link(pk=order.link_id)
        order = locks.lock_order(pk=order.pk)
        if idempotency_key:
            earlier = scoped(Refund, business).filter(idempotency_key=idempotency_key).first()
            if earlier is not None:
                if earlier.order_id != order.pk or earlier.request_digest != digest:
                    raise RefundConflict(
                        _("This Idempotency-Key was already used for another refund."),
                        reason="key_reused",
                    )
                return Requested(refund=earlier, created=False)
        _check(order, amount, route)
        if at_most_overpaid:
            amount = _within_overpaid(order, amount)
        register = _register_for(order, route, register_id)
        refund = Refund.objects.create(
            business=order.business,
            order=order,
            amount=amount,
            reason=reason,
            route=route,
            register=register,
            operation_key=uuid.uuid4(),
            automatic=automatic,
            idempotency_key=idempotency_key[:64],
            request_digest=digest if idempotency_key else "",
            requested_by=author,
        )
        if route == RefundRoute.REGISTER:
            _book(refund, order)
    return Requested(refund=refund, created=True)


def _within_overpaid(order: PaymentOrder, amount: int) -> int:
    """At most what the payable is overpaid by now, less refunds of its other orders still
    on their way (the books hold a refund only when it is done); the link is locked."""
    flying = (
        scoped(Refund, order.business)
        .filter(order__link_id=order.link_id, state__in=REFUND_IN_FLIGHT)
        .aggregate(total=Sum("amount"))["total"]
        or 0
    )
    room = duplicates.overpaid_by(order) - flying
    if room <= 0:
        raise RefundConflict(
            _("Nothing is paid twice any more: there is nothing to give back."),
            reason="nothing_left",
        )
    return min(amount, room)


@bank_call
def refund_payment(
    *,
    business,
    order_id: int,
    amount,
    reason,
    route: str = RefundRoute.BANK,
    register_id: int | None = None,
    author=None,
    idempotency_key: str = "",
    automatic: bool = False,
    at_most_overpaid: bool = False,
) -> Requested:
    """Give back ``amount`` of a paid order: by the provider to the card (``bank``), or from
    a register of the salon's (``register``). With an ``idempotency_key``, a repeat answers
    the first refund (waiting for its bank call), and the key with another request is a
    conflict. ``at_most_overpaid`` (a payment made twice given back by itself): no more
    than its payable is overpaid by, decided under the link's lock. Raises ValidationError
    (bad input), RefundConflict, PaymentOrder.DoesNotExist (not this business's order)."""
    amount = clean_amount(amount)
    reason = clean_reason(reason)
    if route not in (RefundRoute.BANK, RefundRoute.REGISTER):
        raise ValidationError({"route": _("Choose how the money is given back.")})
    for attempt in range(2):
        try:
            requested = _request(
                business=business,
                order_id=order_id,
                amount=amount,
                reason=reason,
                route=route,
                register_id=register_id,
                author=author,
                idempotency_key=idempotency_key,
                automatic=automatic,
                at_most_overpaid=at_most_overpaid,
            )
            break
        except IntegrityError:
            # Another request won the race for the one refund in flight or for this key
            # (SQLite and PostgreSQL both end here): look again, it is committed now.
            if attempt:
                raise RefundConflict(
                    _("A refund of this payment is under way; wait until it is finished."),
                    reason="in_flight",
                ) from None
    refund = requested.refund
    if requested.created and refund.route == RefundRoute.BANK:
        refund = run_at_bank(refund_id=refund.pk)
    elif not requested.created and refund.state == RefundState.REQUESTED:
        refund = _await(refund)
    return Requested(refund=_fresh(refund.pk), created=requested.created)


def _fresh(refund_id: int) -> Refund:
    return Refund.objects.select_related("order", "order__business", "register").get(pk=refund_id)


def _await(refund: Refund) -> Refund:
    """Wait (holding nothing) while another request calls the bank for ``refund``."""
    give_up_at = time.monotonic() + REPEAT_WAIT.total_seconds()
    pause = 0.05
    while time.monotonic() < give_up_at:
        time.sleep(pause)
        pause = min(pause * 2, 0.5)
        refund = Refund.objects.get(pk=refund.pk)
        if refund.state != RefundState.REQUESTED:
            break
    return refund


# --------------------------------------------------------------------- at the bank


@bank_call
def run_at_bank(*, refund_id: int) -> Refund:
    """Call the provider for a requested refund (committed, with its key) and apply the
    answer; a lost answer is settled at once from the bank's records, or later."""
    refund = _fresh(refund_id)
    if refund.state != RefundState.REQUESTED:
        return refund
    provider = providers.get(refund.order.provider)
    try:
        outcome = provider.refund(order=refund.order, refund=refund)
    except ProviderUnavailable as error:
        log.warning("refund %s: answer lost (%s); settling", refund.operation_key, error.message)
        _still_at_bank(refund_id=refund.pk, outcome=RefundOutcome(state=RefundState.AT_BANK))
        return settle(refund_id=refund.pk)
    except ProviderError as error:
        outcome = RefundOutcome(state=RefundState.FAILED, failure_reason=error.message[:300])
    except Exception:
        # Whether the bank got it is unknown: held at the bank and asked later, never left
        # "requested" with no one to settle it (it would block the payment's refunds).
        log.exception("refund %s: the provider call broke; settling later", refund.operation_key)
        return _still_at_bank(refund_id=refund.pk, outcome=RefundOutcome(state=RefundState.AT_BANK))
    return apply_outcome(refund_id=refund.pk, outcome=outcome)


@bank_call
def settle(*, refund_id: int, scheduled_for=None) -> Refund:
    """Learn what became of a refund at the bank (its answer lost or not final)."""
    refund = _fresh(refund_id)
    if refund.state not in REFUND_IN_FLIGHT or refund.route != RefundRoute.BANK:
        return refund
    superseded = (
        scheduled_for is not None
        and refund.next_check_at is not None
        and refund.next_check_at > scheduled_for
    )
    if superseded or _maybe_being_sent(refund):
        return refund
    try:
        outcome = providers.get(refund.order.provider).refund_state(
            order=refund.order, refund=refund
        )
    except ProviderError as error:
        log.warning("refund %s: not settled yet: %s", refund.operation_key, error.message)
        outcome = RefundOutcome(state=RefundState.AT_BANK)
    return apply_outcome(refund_id=refund.pk, outcome=outcome)


def _maybe_being_sent(refund: Refund) -> bool:
    """A young "requested" refund may be on its way to the bank in another request: asking
    about it now could fail it while the bank is about to do it (then booked by no one)."""
    return (
        refund.state == RefundState.REQUESTED and timezone.now() - refund.created_at < STALE_REQUEST
    )


def due_for_settling(*, business=None):
    """Refunds to the card whose end we have not heard: at the bank, or requested long
    ago (the request that sent them broke off)."""
    rows = Refund.objects.filter(route=RefundRoute.BANK).filter(
        Q(state=RefundState.AT_BANK)
        | Q(state=RefundState.REQUESTED, created_at__lt=timezone.now() - STALE_REQUEST)
    )
    if business is not None:
        rows = rows.filter(business=business)
    return rows.order_by("pk")


def hurry_settling(*, order: PaymentOrder) -> bool:
    """The bank reports refunds of ``order`` (locked by the caller) beyond our books: when a
    refund of ours to the card is on its way, that is it — ask after it now (a job, after
    this transaction; no bank call under the lock) rather than list a difference. False
    when none is on its way: the bank's refund is not ours."""
    flying = scoped(Refund, order.business).filter(
        order=order, route=RefundRoute.BANK, state__in=REFUND_IN_FLIGHT
    )
    found = False
    for refund in flying:
        found = True
        if refund.state != RefundState.AT_BANK:
            continue  # its request is still sending it and applies the answer itself
        refund = locks.lock_refund(pk=refund.pk)
        refund.next_check_at = timezone.now()
        refund.save(update_fields=["next_check_at", "updated_at"])
        _schedule_check(refund)
    return found


def _lock_refund(refund_id: int) -> tuple[Refund, PaymentOrder]:
    """The refund's order, then the refund (payments.locks order), both locked."""
    order_id = Refund.objects.values_list("order_id", flat=True).get(pk=refund_id)
    order = locks.lock_order(pk=order_id)
    refund = locks.lock_refund(pk=refund_id)
    return refund, order


def _still_at_bank(*, refund_id: int, outcome: RefundOutcome) -> Refund:
    with transaction.atomic():
        refund, _order = _lock_refund(refund_id)
        if refund.state not in REFUND_IN_FLIGHT:
            return refund
        refund.bank_operation = outcome.operation or refund.bank_operation
        refund.bank_operation_id = outcome.operation_id or refund.bank_operation_id
        refund.checks += 1
        now = timezone.now()
        age = now - refund.created_at
        refund.next_check_at = now + min(max(age, FIRST_CHECK_AFTER), MAX_CHECK_INTERVAL)
        if not refund_transition(refund=refund, to=RefundState.AT_BANK):
            refund.save()
        _schedule_check(refund)
        return refund


def apply_outcome(*, refund_id: int, outcome: RefundOutcome) -> Refund:
    """Apply the provider's word about a refund: done books it (once), failed closes it,
    at the bank schedules the next look."""
    if outcome.state == RefundState.AT_BANK:
        return _still_at_bank(refund_id=refund_id, outcome=outcome)
    with transaction.atomic():
        refund, order = _lock_refund(refund_id)
        if refund.state not in REFUND_IN_FLIGHT:
            return refund
        refund.bank_operation = outcome.operation or refund.bank_operation
        refund.bank_operation_id = outcome.operation_id or refund.bank_operation_id
        if outcome.state == RefundState.DONE:
            _book(refund, order)
        else:
            refund_transition(
                refund=refund,
                to=RefundState.FAILED,
                failure_reason=(outcome.failure_reason or _("The bank refused the refund."))[:300],
            )
            log.info("refund %s failed: %s", refund.operation_key, refund.failure_reason)
        return refund


def _schedule_check(refund: Refund) -> None:
    from .tasks import check_refund

    check_refund.using(run_after=refund.next_check_at).enqueue(refund.pk)


# ------------------------------------------------------ payments of a bank's app


def reversal_refusal(order: PaymentOrder) -> RefundConflict | None:
    """Why the salon may not ask the bank to reverse ``order`` now, or None when it may:
    only a payment of the bank's app, whole, nothing of it given back or on its way."""
    if order.method == Method.CARD:
        return RefundConflict(
            _("A card payment is refunded through the bank directly."), reason="provider_cannot"
        )
    if order.state == State.PARTLY_REFUNDED:
        return RefundConflict(
            _(
                "Part of this payment was already given back; "
                "the bank reverses only a whole payment."
            ),
            reason="given_back",
        )
    try:
        _check(order, order.paid_amount, RefundRoute.BANK_REVERSAL)
    except RefundConflict as refused:
        return refused
    return None


def ask_bank_reversal(*, business, order_id: int, reason, author=None) -> Refund:
    """The salon asked the bank to reverse a payment of its app: the whole of it is held
    as a refund on its way (no register refund meanwhile) until the bank's reversal books
    it (:func:`book_bank_reversal`) or the salon withdraws the request."""
    reason = clean_reason(reason)
    with transaction.atomic():
        order = scoped(PaymentOrder, business).filter(pk=order_id).first()
        if order is None:
            raise PaymentOrder.DoesNotExist
        order = locks.lock_order(pk=order.pk)
        refusal = reversal_refusal(order)
        if refusal is not None:
            raise refusal
        refund = Refund.objects.create(
            business=order.business,
            order=order,
            amount=order.paid_amount,
            reason=reason,
            route=RefundRoute.BANK_REVERSAL,
            register=_register_for(order, RefundRoute.BANK_REVERSAL, None),
            operation_key=uuid.uuid4(),
            requested_by=author,
        )
        refund_transition(refund=refund, to=RefundState.AT_BANK)
    return refund


def withdraw_reversal_request(*, business, refund_id: int, author=None) -> Refund:
    """The bank will not reverse it (or the salon changed its mind): the request ends, and
    the payment may be refunded another way."""
    with transaction.atomic():
        refund = scoped(Refund, business).filter(pk=refund_id).first()
        if refund is None:
            raise Refund.DoesNotExist
        refund, _order = _lock_refund(refund.pk)
        if refund.route != RefundRoute.BANK_REVERSAL or refund.state not in REFUND_IN_FLIGHT:
            raise RefundConflict(
                _("Only a request to the bank that is still open can be withdrawn."),
                reason="not_open",
            )
        refund_transition(
            refund=refund,
            to=RefundState.FAILED,
            failure_reason=_("The request to the bank was withdrawn."),
        )
    return refund


def book_bank_reversal(*, order_id: int) -> Refund:
    """The bank took a paid payment of its app back in full (its ``/reverse``): booked
    once, whatever repeats. Refused (RefundConflict) when any of it was already given back
    from a register: the same money must not go back twice. Runs in the caller's
    transaction (the provider's record of the reversal commits with it)."""
    order = locks.lock_order(pk=order_id)
    refunds = scoped(Refund, order.business).filter(order=order)
    done = refunds.filter(route=RefundRoute.BANK_REVERSAL, state=RefundState.DONE).first()
    if done is not None:
        return done
    if (
        refunds.filter(state__in=(RefundState.DONE, *REFUND_IN_FLIGHT))
        .exclude(route=RefundRoute.BANK_REVERSAL)
        .exists()
        or order.refunded_amount
    ):
        raise RefundConflict(
            _("Part of this payment was already given back from a register."), reason="given_back"
        )
    if order.state not in SETTLED_STATES:
        raise RefundConflict(_("This payment was not paid."), reason="not_paid")
    refund = refunds.filter(route=RefundRoute.BANK_REVERSAL, state__in=REFUND_IN_FLIGHT).first()
    if refund is not None:
        refund = locks.lock_refund(pk=refund.pk)
    else:
        refund = Refund.objects.create(
            business=order.business,
            order=order,
            amount=order.paid_amount,
            reason=_("Reversed by the bank"),
            route=RefundRoute.BANK_REVERSAL,
            register=_register_for(order, RefundRoute.BANK_REVERSAL, None),
            operation_key=uuid.uuid4(),
        )
    _book(refund, order)
    return refund
