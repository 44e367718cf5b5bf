"""What the bank's word about an order does to it: one table from (our state, the bank's
state) to an action. :func:`navbat.payments.services.apply_bank_view` looks the pair up and
does that, every state change through the transition table (payments.states).

The bank's states are those a provider reports (payments.providers.BankView): Uzum's
Checkout status (uzum.provider.bank_view: REGISTERED and AUTHORIZED → pending, COMPLETED →
paid or partly refunded, REFUNDED, DECLINED, REVERSED → cancelled) and its Merchant API
transactions (uzum.merchant.services.app_view: pending, paid, refunded, expired,
cancelled).

Three rules shape it:

* The bank is the truth about money coming in: its "paid" settles any order not settled
  (a late success after we gave up included), and nothing else books income.
* A refund is booked only by our own refund path (payments.refunds; the Merchant API's
  reversal books through it too), never inferred from a status: how much, which fee goes
  back and on which day are the refund's to say. When the bank reports refunds our books do
  not have and a refund of ours to the card is on its way, that refund is asked after at
  once (its own path books it, from the bank's operation under its key); otherwise the
  bank's refund is not ours and is listed as a difference for the owner. Either way the
  order keeps its state and its money here.
* An answer behind ours (the bank says "waiting" or "declined" of an order we hold paid) was
  read before ours moved on; it changes nothing. The nightly check asks afresh and lists
  what truly disagrees.

A pair the table does not know is listed as a difference too, never booked.
"""

from enum import StrEnum

from .models import State


class Action(StrEnum):
    NOTHING = "nothing"  # only the check is counted
    WAIT = "wait"  # → pending: the bank has the order and waits for the client
    NOTE_REASON = "note_reason"  # still pending; keep why the last attempt was declined
    REOPEN = "reopen"  # declined → pending: the client may try again (payments.services)
    PAY = "pay"  # record the payment in the books (F3) → paid
    DECLINE = "decline"  # → declined
    EXPIRE = "expire"  # → expired
    CANCEL = "cancel"  # → cancelled
    DIFFERENCE = "difference"  # list a difference; no state, no money changes
    # The bank has refunds we have not booked: settle ours on its way, else a difference.
    REFUND_SEEN = "refund_seen"


# The columns, in the order of the rows below.
BANK_STATES = (
    State.PENDING,
    State.PAID,
    State.PARTLY_REFUNDED,
    State.REFUNDED,
    State.DECLINED,
    State.EXPIRED,
    State.CANCELLED,
)

NO, WAIT, NOTE, REOPEN, PAY = (
    Action.NOTHING,
    Action.WAIT,
    Action.NOTE_REASON,
    Action.REOPEN,
    Action.PAY,
)
DECLINE, EXPIRE, CANCEL, DIFF = Action.DECLINE, Action.EXPIRE, Action.CANCEL, Action.DIFFERENCE
SEEN = Action.REFUND_SEEN

# fmt: off
_ROWS: dict[str, tuple[Action, ...]] = {
    # ours ↓      bank → pending paid  partly  refunded declined expired cancelled
    State.CREATED:         (WAIT,   PAY, DIFF,   DIFF,    DECLINE, EXPIRE, CANCEL),
    State.PENDING:         (NOTE,   PAY, DIFF,   DIFF,    DECLINE, EXPIRE, CANCEL),
    State.DECLINED:        (REOPEN, PAY, DIFF,   DIFF,    NO,      NO,     NO),
    State.EXPIRED:         (NO,     PAY, DIFF,   DIFF,    NO,      NO,     NO),
    State.CANCELLED:       (NO,     PAY, DIFF,   DIFF,    NO,      NO,     NO),
    State.PAID:            (NO,     NO,  SEEN,   SEEN,    NO,      NO,     NO),
    State.PARTLY_REFUNDED: (NO,     NO,  NO,     SEEN,    NO,      NO,     NO),
    State.REFUNDED:        (NO,     NO,  NO,     NO,      NO,      NO,     NO),
}
# fmt: on

TABLE: dict[tuple[str, str], Action] = {
    (ours, bank): action
    for ours, row in _ROWS.items()
    for bank, action in zip(BANK_STATES, row, strict=True)
}


def action_for(*, ours: str, bank: str) -> Action:
    """What to do when the bank says ``bank`` of an order we hold in ``ours``."""
    return TABLE.get((ours, bank), Action.DIFFERENCE)
