"""Writes of payments: links, starting a card payment, applying what the bank says, and
recording a paid order in the books exactly once.

No row lock is ever held across a call to the bank: the order and its reference (our
idempotency key) are committed first, the bank is called, then the order is locked again
and the answer applied.
"""

import logging
import secrets
import time
import uuid
from dataclasses import asdict
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.finance import fees
from navbat.finance import services as finance
from navbat.finance.models import CardKind, TransactionKind
from navbat.kit.bankcalls import bank_call
from navbat.kit.errors import Refused
from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import to_local

from . import differences, duplicates, locks, payables, providers, refunds
from .bank_states import Action, action_for
from .checks import FIRST_CHECK_AFTER, deadline_of, schedule_check
from .models import Channel, Method, PaymentLink, PaymentOrder, PointBinding, State
from .providers import BankView, ProviderError
from .states import FAILED_STATES, OPEN_STATES, transition

log = logging.getLogger("navbat.payments")
security_log = logging.getLogger("navbat.security")

TOKEN_BYTES = 32  # 256 bits in the link


class PaymentRefused(Refused):
    """The payment cannot start; the message is for the client, ``reason`` a stable code
    (``closed``, ``nothing_due``, ``not_connected``, ``holds_link``, ``failed``,
    ``bank_slow``, ``bank_silent``)."""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: it may be read aloud
CODE_LENGTH = 10  # 50 bits


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# ------------------------------------------------------------------------------- links


def link_for(*, business, kind: str, payable_id: int, author=None) -> PaymentLink:
    """The payable's payment link, made on first use. It stays valid until the payable is
    paid or closed, so pressing "Payment link" again gives the same link."""
    view = payables.describe(business=business, kind=kind, payable_id=payable_id)
    if view is None:
        raise ValidationError(_("There is nothing to pay here."))
    if not view.is_open:
        raise ValidationError(view.closed_reason or _("This can no longer be paid."))
    existing = (
        scoped(PaymentLink, business).filter(payable_kind=kind, payable_id=payable_id).first()
    )
    if existing is not None:
        return existing
    with transaction.atomic():
        link, _created = PaymentLink.objects.get_or_create(
            business=business,
            payable_kind=kind,
            payable_id=payable_id,
            defaults={
                "token": new_token(),
                "code": new_code(),
                "document": view.document,
                "client": view.client,
                "created_by": author,
            },
        )
    return link


def find_link(token: str) -> PaymentLink | None:
    """The public entry: the token itself is the authority (no business is known yet)."""
    if not token or len(token) > 64:
        return None
    return PaymentLink.objects.filter(token=token).select_related("business", "document").first()


# ------------------------------------------------------------------------ card payment


# A press arriving while another press of the same link is calling the bank waits for that
# call (the bank answers register within its timeouts) rather than register a second order.
IN_FLIGHT_FOR = timedelta(seconds=60)
IN_FLIGHT_WAIT = timedelta(seconds=20)  # within a web worker's usual time limit
IN_FLIGHT_POLL = (0.05, 0.5)  # seconds: first and longest pause between looks
START_ROUNDS = 3  # looks at the link's open order before a press gives up
# Less than this left in the bank's session: sending the client there is not worth it.
REUSE_UNTIL_BEFORE_END = timedelta(minutes=2)


def open_card_order(*, link: PaymentLink) -> PaymentOrder | None:
    """The link's card order that is open (the database keeps at most one)."""
    return (
        scoped(PaymentOrder, link.business)
        .filter(link=link, method=Method.CARD, state__in=OPEN_STATES)
        .select_related("business")
        .order_by("-created_at", "-id")
        .first()
    )


def _reusable(order: PaymentOrder, due: int, now) -> bool:
    """Still open at the bank for what is due, with time left to pay: send the client back
    to it rather than register a second one."""
    return (
        order.state == State.PENDING
        and bool(order.redirect_url)
        and order.amount == due
        and order.expires_at is not None
        and order.expires_at > now + REUSE_UNTIL_BEFORE_END
    )


def _in_flight(order: PaymentOrder, now) -> bool:
    """Stored, and another press is calling the bank for it right now."""
    return (
        order.state == State.CREATED
        and not order.redirect_url
        and order.created_at > now - IN_FLIGHT_FOR
    )


def _holds_link(order: PaymentOrder) -> PaymentRefused:
    until = to_local(deadline_of(order), order.business.timezone)
    return PaymentRefused(
        _(
            "A card payment started earlier may still be completed on the bank's page. "
            "You can start a new one after %(time)s."
        )
        % {"time": until.strftime("%H:%M")},
        reason="holds_link",
    )


def _open_or_new(*, link: PaymentLink, language: str):
    """Phase one, under the link's lock: the link's open card order if it has one, else a
    new order committed with our reference. Returns (order, is_new, payable, account)."""
    business = link.business
    with transaction.atomic():
        locks.lock_link(pk=link.pk)
        view = payables.describe(
            business=business, kind=link.payable_kind, payable_id=link.payable_id
        )
        if view is None or not view.is_open:
            raise PaymentRefused(
                (view and view.closed_reason) or _("This can no longer be paid."), reason="closed"
            )
        if view.due <= 0:
            raise PaymentRefused(_("This is already paid."), reason="nothing_due")
        account = providers.active_account(business=business)
        if account is None or Method.CARD not in account.methods:
            raise PaymentRefused(
                _("The salon does not take card payments online at the moment."),
                reason="not_connected",
            )
        # An app transaction under way does not stop the card (nor the card the app): the
        # client who left one road may take the other at once. Should both take money, the
        # later is a duplicate, given back (payments.duplicates).
        current = open_card_order(link=link)
        if current is not None:
            return current, False, view, account
        now = timezone.now()
        try:
            with transaction.atomic():
                order = new_order(
                    link=link,
                    view=view,
                    account=account,
                    method=Method.CARD,
                    amount=view.due,
                    language=(language or "uz")[:8],
                    expires_at=now + timedelta(seconds=account.session_timeout_secs),
                    next_check_at=now + FIRST_CHECK_AFTER,
                )
        except IntegrityError:
            # Another press committed its order first (one open card order per link).
            current = open_card_order(link=link)
            if current is None:
                raise
            return current, False, view, account
        schedule_check(order)
    return order, True, view, account


def _await_bank_call(order: PaymentOrder) -> PaymentOrder:
    """Wait (holding nothing) until the press that is calling the bank for ``order`` has
    its answer, or IN_FLIGHT_WAIT passes; returns the order as it is then."""
    give_up_at = time.monotonic() + IN_FLIGHT_WAIT.total_seconds()
    pause, longest = IN_FLIGHT_POLL
    while time.monotonic() < give_up_at:
        time.sleep(pause)
        pause = min(pause * 2, longest)
        order = PaymentOrder.objects.select_related("business").get(pk=order.pk)
        if not _in_flight(order, timezone.now()):
            return order
    return order


@bank_call
def start_card_payment(
    *, link: PaymentLink, language: str, success_url: str, failure_url: str
) -> PaymentOrder:
    """Register a card payment for what is due on ``link`` and return the order with the
    bank's page to send the client to. One card order per link is open at a time: a second
    press goes to the open one (waiting while another press registers it), or is refused
    while one the client cannot use any more may still take money. Raises PaymentRefused
    or a ProviderError."""
    asked_bank = False
    for _round in range(START_ROUNDS):
        order, is_new, view, account = _open_or_new(link=link, language=language)
        if is_new:
            break
        now = timezone.now()
        if _reusable(order, view.due, now):
            return order
        if _in_flight(order, now):
            order = _await_bank_call(order)
            if order.state in FAILED_STATES:
                raise PaymentRefused(
                    order.failure_reason or _("Try again in a minute."), reason="failed"
                )
            if _in_flight(order, timezone.now()):
                raise PaymentRefused(
                    _("The bank is slow to answer. Wait a minute and reload the page."),
                    reason="bank_slow",
                )
            continue
        if now < deadline_of(order):
            raise _holds_link(order)
        if asked_bank:
            raise PaymentRefused(
                _("The bank is not answering. Try again in a minute."), reason="bank_silent"
            )
        # Its session is surely over: the bank's last word closes it (or records it), as
        # reconciliation would a little later.
        from .reconciliation import check_pending

        check_pending(order_id=order.pk, now=now)
        asked_bank = True
    else:
        # Each round waited on another press's order that then made way for yet another.
        raise PaymentRefused(
            _("The bank is slow to answer. Wait a minute and reload the page."),
            reason="bank_slow",
        )
    # Committed: the reference is stored before the bank hears of it.
    provider = providers.get(order.provider)
    try:
        started = provider.start_card_payment(
            order=order,
            account=account,
            success_url=success_url.replace("REFERENCE", order.reference),
            failure_url=failure_url.replace("REFERENCE", order.reference),
            cart=view.lines,
            description=view.headline,
        )
    except ProviderError as error:
        # Unreachable: the bank may still have registered it; a callback naming our
        # reference can settle it later (cancelled → paid is allowed).
        _give_up(order_id=order.pk, reason=error.message)
        raise
    with transaction.atomic():
        order = locks.lock_order(pk=order.pk)
        if not order.bank_order_id:
            order.bank_order_id = started.bank_order_id
        order.redirect_url = started.redirect_url
        if order.state == State.CREATED:
            transition(order=order, to=State.PENDING)
        else:
            # A callback that overtook our register call already moved it on.
            order.save(update_fields=["bank_order_id", "redirect_url", "updated_at"])
    return order


def new_order(
    *,
    link: PaymentLink,
    view: payables.PayableView,
    account: providers.Account,
    method: str,
    amount: int,
    **fields,
) -> PaymentOrder:
    """A payment order for ``link``'s payable, with a fresh reference of ours (the caller
    holds the link's lock and commits before any bank hears of it). It came by the
    checkout QR when a point leads to the link at this moment (``payments.qr``)."""
    if "channel" not in fields:
        bound = PointBinding.objects.filter(
            link=link, ended_at=None, expires_at__gt=timezone.now()
        ).exists()
        fields["channel"] = Channel.QR if bound else (view.channel or Channel.LINK)
    return PaymentOrder.objects.create(
        business=link.business,
        link=link,
        payable_kind=link.payable_kind,
        payable_id=link.payable_id,
        document=view.document,
        client=view.client,
        provider=account.provider,
        account_id=account.id,
        method=method,
        amount=amount,
        reference=str(uuid.uuid4()),
        lines=[asdict(line) for line in view.lines],
        **fields,
    )


def _give_up(*, order_id: int, reason: str) -> None:
    with transaction.atomic():
        order = locks.lock_order(pk=order_id)
        if order.state in OPEN_STATES:
            transition(order=order, to=State.CANCELLED, failure_reason=reason[:300])


# -------------------------------------------------------------- applying the bank's word


def apply_bank_view(*, order_id: int, view: BankView, link_held: bool = False) -> PaymentOrder:
    """Apply what the bank said about an order (from its status call, never from a
    callback's body). Repeats change nothing; the books are written once.

    A payment is recorded under its link's lock (taken before the order's), the lock the
    app's last look (``app_payments.still_payable``) holds: of two payments of one link
    the later one recorded sees the earlier and is marked a duplicate (``link_held``: the
    caller holds it already)."""
    with transaction.atomic():
        if view.state == State.PAID and not link_held:
            locks.lock_link_of_order(order_id=order_id)
        order = locks.lock_order(pk=order_id)
        if view.reference and view.reference != order.reference:
            security_log.warning(
                "bank order %s names %r, not our %s: ignored",
                view.bank_order_id,
                view.reference,
                order.reference,
            )
            return order
        if view.amount and view.amount != order.amount:
            security_log.warning(
                "bank order %s is for %s, ours %s is for %s: ignored",
                view.bank_order_id,
                view.amount,
                order.reference,
                order.amount,
            )
            return order
        order.checked_at = timezone.now()
        order.checks += 1
        if not order.bank_order_id and view.bank_order_id:
            order.bank_order_id = view.bank_order_id
        _apply(action_for(ours=order.state, bank=view.state), order, view)
        return order


def _apply(action: Action, order: PaymentOrder, view: BankView) -> None:
    """Do what payments.bank_states says to (the order is locked); each branch saves."""
    reason = (view.failure_reason or "")[:300]
    if action == Action.PAY:
        _record_paid(order, view)
    elif action == Action.WAIT:
        transition(order=order, to=State.PENDING, failure_reason=view.failure_reason)
    elif action == Action.REOPEN:
        _reopen(order, view.failure_reason)
    elif action in (Action.DECLINE, Action.EXPIRE, Action.CANCEL):
        transition(order=order, to=view.state, failure_reason=reason)
    elif action == Action.REFUND_SEEN:
        # A refund of ours on its way explains the bank's refunds: settled, not listed.
        if not refunds.hurry_settling(order=order):
            _differs(order, view)
        order.save()
    else:
        if action == Action.NOTE_REASON and view.failure_reason:
            order.failure_reason = reason
        elif action == Action.DIFFERENCE:
            _differs(order, view)
        order.save()


def _differs(order: PaymentOrder, view: BankView) -> None:
    """The bank's word is one our books cannot follow (a refund they do not have, or a pair
    no one foresaw): listed for the owner, as the nightly check would, never booked."""
    log.warning(
        "payment %s: the bank says %s, ours is %s: listed as a difference",
        order.reference,
        view.state,
        order.state,
    )
    differences.note(order, differences.day_of(), differences.STATE, order.state, view.state)


def _reopen(order: PaymentOrder, reason: str) -> None:
    """The bank waits again on an order it had declined. If a newer card order holds the
    link meanwhile (one open per link), this one stays declined: a payment on it is still
    recorded (declined → paid), and the link is not given two open bank orders."""
    kept_reason = (reason or order.failure_reason)[:300]
    try:
        with transaction.atomic():
            transition(order=order, to=State.PENDING, failure_reason=reason)
    except IntegrityError:
        order.state, order.failure_reason = State.DECLINED, kept_reason
        order.save()


def _record_paid(order: PaymentOrder, view: BankView) -> None:
    """F3: the payment, its income in the provider's register, the fee, and the payable's
    hook, in the caller's transaction (the order row is locked)."""
    provider = providers.get(order.provider)
    account = provider.account_by_id(account_id=order.account_id)
    paid = view.paid_amount or order.amount
    paid_at = view.paid_at or timezone.now()
    card_kind = view.card_kind or CardKind.OTHER
    business = order.business
    day = to_local(paid_at, business.timezone).date()
    fee = fees.fee_for(schedule=account.fee_schedule, card_kind=card_kind, amount=paid, day=day)
    label = order.method_label
    rrn = view.rrn and f"RRN {view.rrn}"
    parts = (str(label), view.card_scheme, view.tariff, view.masked_pan, rrn)
    note = " ".join(part for part in parts if part)
    income = finance.record_transaction(
        business=business,
        register=account.register,
        kind=TransactionKind.SALE_PAYMENT,
        amount=paid,
        document=order.document,
        client=order.client,
        note=note,
        occurred_at=paid_at,
        idempotency_key=f"payment:{order.reference}",
        bank_settlement=True,
    )
    fee_transaction = None
    if fee.amount > 0:
        fee_transaction = finance.record_transaction(
            business=business,
            register=account.register,
            kind=TransactionKind.BANK_FEE,
            amount=fee.amount,
            document=order.document,
            client=order.client,
            note=_("Bank fee %(rate)s %% on %(reference)s")
            % {"rate": fees.format_rate(fee.rate_bp), "reference": order.reference[:8]},
            occurred_at=paid_at,
            idempotency_key=f"fee:{order.reference}",
            bank_settlement=True,
        )
    transition(
        order=order,
        to=State.PAID,
        paid_amount=paid,
        paid_at=paid_at,
        card_kind=card_kind,
        card_scheme=view.card_scheme,
        masked_pan=view.masked_pan,
        rrn=view.rrn,
        tariff=view.tariff,
        fee_rate_bp=fee.rate_bp,
        fee_amount=fee.amount,
        income=income,
        fee=fee_transaction,
        failure_reason="",
    )
    payables.get(order.payable_kind).on_paid(
        business=business, payable_id=order.payable_id, order=order
    )
    duplicates.mark(order)
    log.info("payment %s recorded: %s tiyin, fee %s", order.reference, paid, fee.amount)


# The waiting screen polls every 2 s; the bank is asked at most once per order this often.
PULL_PAUSE = timedelta(seconds=3)


def claim_pull(*, order: PaymentOrder, business) -> bool:
    """Take this pause's one question to the bank about ``order`` (then :func:`refresh`). A
    single UPDATE, so that of many polls at once (in any number of web processes) exactly
    one wins; the others show what is known."""
    now = timezone.now()
    claimed = (
        scoped(PaymentOrder, business)
        .filter(pk=order.pk)
        .filter(Q(checked_at__isnull=True) | Q(checked_at__lte=now - PULL_PAUSE))
        .update(checked_at=now)
    )
    return claimed == 1


@bank_call
def refresh(*, order: PaymentOrder) -> PaymentOrder:
    """Ask the bank about ``order`` now and apply the answer (no lock held while asking)."""
    if not order.bank_order_id:
        return order
    provider = providers.get(order.provider)
    view = provider.fetch(order=order)
    return apply_bank_view(order_id=order.pk, view=view)
