"""Background jobs of the Uzum adapter."""

from django_tasks import task

# Priorities (django-tasks-db runs higher first, then by due time, then by age): a callback
# naming a live order of ours and its status pull first; other fresh callbacks next, beside
# the first pull of a closed order (one pull answers every callback waiting for it, and
# those pulls have a small budget); re-queued callbacks and pulls last, so that fresh work
# never waits behind retries.
PRIORITY_OURS, PRIORITY_FRESH, PRIORITY_CLOSED, PRIORITY_RETRY = 20, 10, 10, -10


@task()
def handle_callback(callback_id: int, attempt: int = 0) -> None:
    """Act on one stored callback: find the order it names and have the bank asked about
    it, once per order however many callbacks name it (see :mod:`navbat.uzum.callbacks`)."""
    from .callbacks import handle

    handle(callback_id=callback_id, attempt=attempt)


@task()
def pull_status(pull_id: int) -> None:
    """Ask the bank about an order that callbacks are waiting for, and answer them all."""
    from .callbacks import run_pull

    run_pull(pull_id=pull_id)


@task()
def expire_app_transaction(transaction_id: int) -> None:
    """Thirty minutes after ``/create``: fail the transaction if the app never confirmed it,
    so the payable can be paid again."""
    from .merchant.services import expire

    expire(transaction_id=transaction_id)
