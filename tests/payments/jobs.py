"""Run due django-tasks-db jobs in the test thread, as the worker would (like the sandbox's
``callbacks.deliver_due``): claimed in a short transaction, run outside it."""

from collections import Counter
from datetime import datetime

import httpx
from django.core.handlers.wsgi import WSGIHandler
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import TaskContext, TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

CALLBACK_JOB = "navbat.uzum.tasks.handle_callback"
CHECK_JOB = "navbat.payments.tasks.check_payment"
DAILY_JOB = "navbat.payments.tasks.daily_reconciliation"
SANDBOX_DELIVERY = "navbat.uzum_sandbox.tasks.deliver_callback"


def waiting(*paths: str):
    """Jobs of ``paths`` not run yet."""
    return DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path__in=paths)


def run_due(
    *paths: str, now: datetime | None = None, limit: int = 1000, worker: str = "tests"
) -> int:
    """Run the jobs of ``paths`` due at ``now`` (default: now), in the worker's order
    (priority, then the time each was due, then when it was queued), including those they
    queue that are due too; returns how many ran. A job that raises is marked failed and the
    error re-raised: a test must see it."""
    ran = 0
    while ran < limit:
        moment = max(now, timezone.now()) if now is not None else timezone.now()
        with transaction.atomic():
            row = (
                DBTaskResult.objects.select_for_update(skip_locked=True)
                .filter(status=TaskResultStatus.READY, task_path__in=paths)
                .filter(Q(run_after=get_date_max()) | Q(run_after__lte=moment))
                .first()
            )
            if row is None:
                break
            row.claim(worker)
        args = row.args_kwargs
        job = import_string(row.task_path)
        context = (TaskContext(task_result=row.task_result),) if job.takes_context else ()
        try:
            job.call(*context, *args["args"], **args["kwargs"])
        except Exception as exc:
            row.set_failed(exc)
            raise
        row.set_successful(None)
        ran += 1
    return ran


# ------------------------------------------------------------ the money path, for tests

RETURN_URL = "http://127.0.0.1:8000/pay/x/return/REFERENCE"


def callbacks_in_process(monkeypatch):
    """The sandbox bank's callbacks reach navbat's endpoints inside this process (httpx over
    WSGI): real HTTP requests and answers, without a socket. For a test module's fixture,
    beside ``bank_in_process`` (which keeps the test's database connection open across
    requests served in-process)."""
    from navbat.uzum_sandbox import callbacks as sandbox_callbacks

    app = WSGIHandler()

    def post(url: str, body: dict) -> tuple[int | None, str]:
        with httpx.Client(transport=httpx.WSGITransport(app=app)) as http:
            response = http.post(url, json=body)
        if response.status_code == 200:
            return 200, ""
        return response.status_code, response.text[:200]

    monkeypatch.setattr(sandbox_callbacks, "post", post)
    return post


def deliver_and_handle(*, now: datetime | None = None) -> tuple[int, int]:
    """The bank sends what it owes (sandbox delivery jobs), then navbat's worker handles the
    callbacks it stored. Returns (deliveries, callback jobs) run."""
    from navbat.uzum_sandbox.callbacks import deliver_due

    delivered = deliver_due(now)
    handled = run_due(CALLBACK_JOB, now=now)
    return delivered, handled


def start_payment(salon, *, appointment=None, language: str = "en"):
    """A card payment of what is due on an appointment (default: the salon's first)."""
    from navbat.payments import services

    appointment = appointment or salon.appointments[0]
    link = services.link_for(business=salon.business, kind="appointment", payable_id=appointment.pk)
    return services.start_card_payment(
        link=link,
        language=language,
        success_url=RETURN_URL,
        failure_url=RETURN_URL + "?failed=1",
    )


def books(business) -> dict:
    """What a money test compares: orders per state, transactions per kind, callbacks."""
    from navbat.finance.models import Transaction
    from navbat.payments.models import PaymentOrder
    from navbat.uzum.models import Callback

    orders = PaymentOrder.objects.filter(business=business)
    return {
        "orders": dict(Counter(orders.values_list("state", flat=True))),
        "transactions": dict(
            Counter(Transaction.objects.filter(business=business).values_list("kind", flat=True))
        ),
        "callbacks": Callback.objects.filter(business=business).count(),
    }


def set_faults(client, terminal, switches: dict):
    """Set the sandbox terminal's fault switches through the control API, with the sandbox
    token of the terminal's owner."""
    from navbat.kit.sandbox_tokens import token_for

    response = client.post(
        f"/sandbox/uzum/control/terminals/{terminal.terminal_id}/faults",
        data=switches,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(terminal.owner)}"},
    )
    assert response.status_code == 200, response.content
    terminal.refresh_from_db()
    return response.json()["faults"]
