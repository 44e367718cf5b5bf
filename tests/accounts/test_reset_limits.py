"""Password-reset limits a stranger cannot turn against the user: one e-mail per address
typed per few minutes (a setting), counted and recorded atomically, and the job row never
holds the e-mail in clear."""

import json
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.test import Client, override_settings
from django_tasks_db.models import DBTaskResult

from tests.payments.jobs import run_due, waiting

from .test_passwords import RESET_JOB, SENT, request_reset

CLOCK = {}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    from django.utils import timezone

    CLOCK["now"] = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: CLOCK["now"])


def age(seconds: int) -> None:
    CLOCK["now"] += timedelta(seconds=seconds)


@pytest.mark.django_db
def test_a_stranger_cannot_block_the_owners_reset(person, settings):
    assert timedelta(minutes=5) == settings.NAVBAT_PASSWORD_RESET_EMAIL_INTERVAL
    for _request in range(3):
        assert request_reset(Client(), person.email, address="192.0.2.1").url == SENT
    # Within five minutes one e-mail went out, whoever asked again; the answer is the same.
    age(4 * 60 + 59)
    assert request_reset(Client(), person.email, address="198.51.100.7").url == SENT
    assert waiting(RESET_JOB).count() == 1
    # Five minutes on, the owner gets theirs, however often a stranger asked before.
    age(1)
    assert request_reset(Client(), person.email, address="198.51.100.7").url == SENT
    assert waiting(RESET_JOB).count() == 2
    for _request in range(5):
        age(5 * 60)
        assert request_reset(Client(), person.email, address=f"192.0.2.{_request + 2}").url == SENT
    assert waiting(RESET_JOB).count() == 7
    assert run_due(RESET_JOB) == 7
    assert len(mail.outbox) == 7


@pytest.mark.django_db
@override_settings(NAVBAT_PASSWORD_RESET_EMAIL_INTERVAL=timedelta(minutes=1))
def test_the_interval_is_a_setting(person):
    request_reset(Client(), person.email)
    age(59)
    request_reset(Client(), person.email)
    assert waiting(RESET_JOB).count() == 1
    age(1)
    request_reset(Client(), person.email)
    assert waiting(RESET_JOB).count() == 2


@pytest.mark.django_db
def test_spellings_of_one_email_share_its_interval(person):
    for spelling in ("person@example.uz", " PERSON@example.uz", "Person@Example.UZ"):
        assert request_reset(Client(), spelling).url == SENT
    assert waiting(RESET_JOB).count() == 1


@pytest.mark.django_db
def test_the_address_ceiling_still_holds_and_frees_after_an_hour(person):
    for index in range(10):
        assert request_reset(Client(), f"guess{index}@example.uz").url == SENT
    assert request_reset(Client(), person.email).status_code == 429
    # Asking again for an e-mail already on its way counts nothing.
    age(59 * 60)
    assert request_reset(Client(), person.email).status_code == 429
    age(60)
    assert request_reset(Client(), person.email).url == SENT
    assert waiting(RESET_JOB).count() == 11


@pytest.mark.django_db
def test_the_job_row_holds_no_email(person):
    request_reset(Client(), "  Person@Example.UZ ")
    request_reset(Client(), "nobody@example.uz")
    rows = list(DBTaskResult.objects.filter(task_path=RESET_JOB).values())
    assert len(rows) == 2
    stored = json.dumps(rows, default=str).lower()
    for secret in ("person@example.uz", "nobody@example.uz", "person@", "nobody@"):
        assert secret not in stored
    assert run_due(RESET_JOB) == 2
    assert [message.to for message in mail.outbox] == [[person.email]]


@pytest.mark.django_db
def test_a_job_queued_before_the_change_still_sends(person):
    from navbat.accounts.tasks import send_password_reset

    send_password_reset.enqueue(person.email)
    assert run_due(RESET_JOB) == 1
    assert [message.to for message in mail.outbox] == [[person.email]]


def _race(count: int, call) -> list:
    barrier = threading.Barrier(count)
    outcomes: list = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            result = call(index)
        except Exception as exc:  # the test shows anything unexpected
            result = f"error: {type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_for_one_email_queue_one(person):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    outcomes = _race(
        8, lambda i: request_reset(Client(), person.email, address=f"192.0.2.{i}").status_code
    )
    assert outcomes == [302] * 8
    assert waiting(RESET_JOB).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_from_one_address_stop_at_its_ceiling(person):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    outcomes = _race(
        14,
        lambda i: request_reset(Client(), f"guess{i}@example.uz", address="192.0.2.9").status_code,
    )
    assert sorted(outcomes) == [302] * 10 + [429] * 4
    assert waiting(RESET_JOB).count() == 10
