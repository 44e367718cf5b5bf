"""Background jobs of the Uzum adapter."""

from django_tasks import task


@task()
def handle_callback(callback_id: int, attempt: int = 0) -> None:
    """Act on one stored callback: ask the bank about the order it names and apply the
    bank's answer (see :mod:`navbat.uzum.callbacks`)."""
    from .callbacks import handle

    handle(callback_id=callback_id, attempt=attempt)
