"""What the Merchant API does for each call, on one connection (uzum-bank.md §2).

A transaction (``transId``) reserves a payment link's payable through payments
(:mod:`navbat.payments.app_payments`); confirming it records the payment by the same path
as a card payment (:func:`navbat.payments.services.apply_bank_view`) before the answer is
sent, so a ``/status`` after a lost answer tells the truth. Every state change happens under
the transaction's row lock, by the table in ``merchant.states``; nothing here calls a bank.
"""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from navbat.kit.money import format_money
from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import to_local
from navbat.payments import app_payments, payables, selectors
from navbat.payments.app_payments import AppPaymentRefused, Refusal
from navbat.payments.models import State
from navbat.payments.payables import PayableView
from navbat.payments.providers import BankView
from navbat.payments.refunds import RefundConflict
from navbat.payments.services import apply_bank_view

from ..models import Connection, MerchantTransaction, TransactionState
from ..translate import account_of, app_view
from .protocol import (
    MAX_AMOUNT,
    MIN_AMOUNT,
    Code,
    MerchantError,
    Request,
    amount_in_limits,
    ms,
    now_ms,
)
from .states import MACHINE

log = logging.getLogger("navbat.uzum")

# A transaction the app does not confirm within this is failed (uzum-bank.md §2).
CONFIRM_WITHIN = timedelta(minutes=30)
INSTALLMENT = "INSTALLMENT"

REFUSAL_CODES = {
    Refusal.UNKNOWN: Code.ATTRIBUTE_NOT_FOUND,
    Refusal.CLOSED: Code.PAYMENT_CANCELLED,
    Refusal.PAID: Code.ALREADY_PAID,
    Refusal.AMOUNT: Code.INVALID_AMOUNT,
}


# --------------------------------------------------------------------------------- check


def _payable(connection: Connection, params: dict):
    """The link and payable that ``params`` name through the connection's attribute."""
    if not (connection.is_active and connection.app_payments):
        raise MerchantError(Code.ATTRIBUTE_NOT_FOUND, "app payments are off")
    value = params.get(connection.payment_attribute)
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise MerchantError(Code.ATTRIBUTE_NOT_FOUND, "no payment attribute")
    link = selectors.link_by_code(business=connection.business, code=str(value))
    try:
        view = app_payments.payable_of(link)
    except AppPaymentRefused as refused:
        raise MerchantError(REFUSAL_CODES[refused.reason], refused.reason.value) from None
    return link, view


def _field(value: str) -> dict:
    return {"value": value}


def summary(view: PayableView) -> dict[str, dict]:
    """What the app shows the client before paying: the salon, the service, when and by
    whom, and the amount due (also in tiyin, for the app to prefill)."""
    titles = ", ".join(line.title for line in view.lines) or view.headline
    data = {"salon": _field(view.place_name), "service": _field(titles[:250])}
    if view.person:
        data["specialist"] = _field(view.person)
    if view.starts_at:
        local = to_local(view.starts_at, view.time_zone)
        data["time"] = _field(date_format(local, "d.m.Y H:i"))
    data["due"] = _field(format_money(view.due))
    data["amount"] = _field(str(view.due))
    return data


def check(*, connection: Connection, request: Request) -> dict:
    # A card page left open, or an earlier transaction, does not stop the app: only the
    # confirm, under the link's lock, refuses money no longer due (app_payments).
    _link, view = _payable(connection, request.params)
    if not amount_in_limits(view.due):
        raise MerchantError(
            Code.AMOUNT_BELOW_MINIMUM if view.due < MIN_AMOUNT else Code.AMOUNT_ABOVE_MAXIMUM
        )
    return {
        "serviceId": request.service_id,
        "timestamp": now_ms(),
        "status": "OK",
        "data": summary(view),
    }


# -------------------------------------------------------------------------------- create


def create(*, connection: Connection, request: Request) -> dict:
    if _transaction(connection, request) is not None:
        raise MerchantError(Code.TRANSACTION_EXISTS)
    link, view = _payable(connection, request.params)
    amount = request.amount
    if amount is None:
        raise MerchantError(Code.INVALID_AMOUNT, "amount is not a whole number of tiyin")
    if amount < MIN_AMOUNT:
        raise MerchantError(Code.AMOUNT_BELOW_MINIMUM)
    if amount > MAX_AMOUNT:
        raise MerchantError(Code.AMOUNT_ABOVE_MAXIMUM)
    if amount != view.due:
        raise MerchantError(Code.INVALID_AMOUNT)
    try:
        with transaction.atomic():
            # One create at a time per connection: a replayed transId waiting here finds the
            # first one's row (10010), not a busy payable.
            Connection.objects.select_for_update().filter(pk=connection.pk).first()
            now = timezone.now()  # after the lock: the 30 minutes start when it is created
            if _transaction(connection, request) is not None:
                raise MerchantError(Code.TRANSACTION_EXISTS)
            try:
                order = app_payments.reserve(
                    link=link,
                    account=account_of(connection),
                    amount=amount,
                    bank_ref=str(request.trans_id),
                    hold=CONFIRM_WITHIN,
                    now=now,
                )
            except AppPaymentRefused as refused:
                raise MerchantError(REFUSAL_CODES[refused.reason], refused.reason.value) from None
            tx = MerchantTransaction.objects.create(
                business=connection.business,
                connection=connection,
                trans_id=request.trans_id,
                order=order,
                amount=amount,
                params=_kept_params(connection, request.params),
                created_at=now,
            )
            _schedule_expiry(tx)
    except IntegrityError:
        if _transaction(connection, request) is None:
            raise  # not a replay: an error of ours (99999)
        raise MerchantError(Code.TRANSACTION_EXISTS) from None
    log.info("app transaction %s created for payment %s", tx.trans_id, order.reference)
    return {
        "serviceId": request.service_id,
        "transId": request.trans_id_text,
        "status": "CREATED",
        "transTime": ms(tx.created_at),
        "amount": tx.amount,
    }


def _kept_params(connection: Connection, params: dict) -> dict:
    value = params.get(connection.payment_attribute)
    return {connection.payment_attribute: str(value)[:64]}


def _schedule_expiry(tx: MerchantTransaction) -> None:
    from ..tasks import expire_app_transaction

    run_after = tx.created_at + CONFIRM_WITHIN + timedelta(seconds=1)
    expire_app_transaction.using(run_after=run_after).enqueue(tx.pk)


# ---------------------------------------------------------------- confirm, reverse, status


def _transaction(
    connection: Connection, request: Request, *, lock: bool = False
) -> MerchantTransaction | None:
    rows = scoped(MerchantTransaction, connection.business).filter(
        connection=connection, trans_id=request.trans_id
    )
    if lock:
        # Its own row only: the order read with it is locked later, after the link.
        rows = rows.select_for_update(of=("self",))
    return rows.select_related("order").first()


def _locked(connection: Connection, request: Request) -> MerchantTransaction:
    tx = _transaction(connection, request, lock=True)
    if tx is None:
        raise MerchantError(Code.TRANSACTION_NOT_FOUND)
    return tx


def _overdue(tx: MerchantTransaction, now: datetime) -> bool:
    return tx.state == TransactionState.CREATED and now >= tx.created_at + CONFIRM_WITHIN


def _fail(
    tx: MerchantTransaction, now: datetime, *, reason: str = "", ends: str = State.EXPIRED
) -> None:
    """The transaction can never be confirmed (not in time, or its payable went away): it
    fails and frees the payable."""
    MACHINE.move(tx, TransactionState.FAILED, failed_at=now)
    tx.save(update_fields=["state", "failed_at"])
    reason = reason or _("The payment in the Uzum Bank app was not completed in time.")
    _release(tx, ends, reason)
    log.info("app transaction %s failed: %s", tx.trans_id, reason)


def _release(tx: MerchantTransaction, state: str, reason: str) -> None:
    """The order behind an unpaid transaction ends (``state``) and its payable is free."""
    order = tx.order
    apply_bank_view(
        order_id=order.pk,
        view=BankView(
            state=state,
            bank_order_id=str(tx.trans_id),
            reference=order.reference,
            amount=order.amount,
            failure_reason=reason,
        ),
    )


def confirm(*, connection: Connection, request: Request) -> dict:
    refused = None
    with transaction.atomic():
        tx = _locked(connection, request)
        now = timezone.now()  # after the lock: a confirm that waited is judged when it acts
        if tx.state == TransactionState.CONFIRMED:
            raise MerchantError(Code.ALREADY_CONFIRMED)
        if tx.state != TransactionState.CREATED:
            raise MerchantError(Code.CANNOT_CONFIRM, tx.state)
        if _overdue(tx, now):
            _fail(tx, now)  # committed with this block, then refused below
            refused = MerchantError(Code.CANNOT_CONFIRM, "not confirmed within 30 minutes")
        else:
            try:
                app_payments.still_payable(order_id=tx.order_id)
            except AppPaymentRefused as gone:
                # Refused, the app gives the client's money back; the transaction is over.
                reason = _("The visit was paid or cancelled meanwhile.")
                _fail(tx, now, reason=reason, ends=State.CANCELLED)
                refused = MerchantError(REFUSAL_CODES[gone.reason], gone.reason.value)
            else:
                _record(tx, request, now)
    if refused is not None:
        raise refused
    return {
        "serviceId": request.service_id,
        "transId": request.trans_id_text,
        "status": "CONFIRMED",
        "confirmTime": ms(tx.confirmed_at),
        "amount": tx.amount,
    }


def _record(tx: MerchantTransaction, request: Request, now: datetime) -> None:
    source = request.payment_source
    tariff = request.tariff if source == INSTALLMENT else ""
    MACHINE.move(
        tx,
        TransactionState.CONFIRMED,
        confirmed_at=now,
        payment_source=source,
        tariff=tariff,
        phone=request.phone,
        processing_reference=request.processing_reference,
        card_type=request.card_type,
    )
    tx.save()
    # still_payable locked the link just before: recorded under it, no second lock.
    order = apply_bank_view(order_id=tx.order_id, view=app_view(tx), link_held=True)
    if order.state not in (State.PAID, State.PARTLY_REFUNDED, State.REFUNDED):
        # The books refused what the bank says was paid: answer an error (rolled back) so
        # the app asks /status, rather than confirm money we did not record.
        raise MerchantError(Code.INTERNAL, f"payment {order.reference} stayed {order.state}")
    log.info("app transaction %s confirmed: %s tiyin by %s", tx.trans_id, tx.amount, source)


def reverse(*, connection: Connection, request: Request) -> dict:
    now = timezone.now()
    with transaction.atomic():
        tx = _locked(connection, request)
        if tx.state in (TransactionState.REVERSED, TransactionState.FAILED):
            raise MerchantError(Code.ALREADY_REVERSED, tx.state)
        if tx.state == TransactionState.CONFIRMED:
            link = tx.order.link
            view = payables.describe(
                business=connection.business, kind=link.payable_kind, payable_id=link.payable_id
            )
            if view is not None and view.delivered:
                raise MerchantError(Code.CANNOT_REVERSE, "the service was given")
            try:
                app_payments.reverse_paid(order_id=tx.order_id)
            except RefundConflict as error:
                # Part of it was already given back another way (from a register): a full
                # reversal would give it twice.
                raise MerchantError(Code.CANNOT_REVERSE, error.reason) from error
        else:
            _release(tx, State.CANCELLED, _("The payment was cancelled in the Uzum Bank app."))
        MACHINE.move(tx, TransactionState.REVERSED, reversed_at=now)
        tx.save(update_fields=["state", "reversed_at"])
    log.info("app transaction %s reversed", tx.trans_id)
    return {
        "serviceId": request.service_id,
        "transId": request.trans_id_text,
        "status": "REVERSED",
        "reverseTime": ms(tx.reversed_at),
        "amount": tx.amount,
    }


def status(*, connection: Connection, request: Request) -> dict:
    now = timezone.now()
    tx = _transaction(connection, request)
    if tx is None:
        raise MerchantError(Code.TRANSACTION_NOT_FOUND)
    if _overdue(tx, now):
        with transaction.atomic():
            tx = _locked(connection, request)
            if _overdue(tx, now):
                _fail(tx, now)
    if tx.state == TransactionState.FAILED:
        raise MerchantError(Code.CANNOT_CONFIRM, "failed")
    return {
        "serviceId": request.service_id,
        "transId": request.trans_id_text,
        "status": tx.state,
        "transTime": ms(tx.created_at),
        "confirmTime": ms(tx.confirmed_at),
        "reverseTime": ms(tx.reversed_at),
        "amount": tx.amount,
    }


def expire(*, transaction_id: int, now: datetime | None = None) -> bool:
    """The job at 30 minutes: fail the transaction if the app never confirmed it."""
    now = now or timezone.now()
    with transaction.atomic():
        tx = (
            MerchantTransaction.objects.select_for_update(of=("self",))
            .select_related("order")
            .filter(pk=transaction_id)
            .first()
        )
        if tx is None or not _overdue(tx, now):
            return False
        _fail(tx, now)
    return True
