"""The sandbox bank's background jobs (run by navbat's worker, never inside a request)."""

from django_tasks import task


@task()
def deliver_callback(callback_id: int, copies: int = 1, then: list[int] | None = None) -> None:
    """One delivery attempt of a callback; see :mod:`navbat.uzum_sandbox.callbacks`."""
    from . import callbacks

    callbacks.attempt(callback_id, copies=copies, then=then or [])
