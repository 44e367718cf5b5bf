"""Background jobs of the Uzum adapter."""

from django_tasks import task


@task()
def handle_callback(callback_id: int, attempt: int = 0) -> None:
    """Act on one stored callback: ask the bank about the order it names and apply the
    bank's answer (see :mod:`navbat.uzum.callbacks`)."""
    from .callbacks import handle

    handle(callback_id=callback_id, attempt=attempt)


@task()
def expire_app_transaction(transaction_id: int) -> None:
    """Thirty minutes after ``/create``: fail the transaction if the app never confirmed it,
    so the payable can be paid again."""
    from .merchant.services import expire

    expire(transaction_id=transaction_id)
