"""The session's salons (tests/seed.py): shared rows, private copies, nothing leaks."""

from datetime import timedelta

import pytest

from navbat.accounts.models import User
from navbat.salons.models import Business, Client
from tests.seed import only


@pytest.mark.django_db
def test_an_ordinary_test_gets_copies_of_the_seeded_salons(salon_seed, salon_a, salon_b):
    assert salon_seed.fresh()
    seeded = salon_seed.salons["A"]
    assert salon_a.business.pk == seeded.business.pk
    assert salon_a is not seeded
    assert salon_a.clients[0] is not seeded.clients[0]
    assert salon_a.appointments is not seeded.appointments
    assert Business.objects.count() == 2
    assert User.objects.count() == 6


@pytest.mark.django_db
@pytest.mark.parametrize("attempt", [1, 2])
def test_changes_roll_back_and_copies_stay_apart(salon_a, attempt):
    # Whichever runs second finds the name and the list as built.
    client = Client.objects.get(pk=salon_a.clients[0].pk)
    assert client.name == "Client A0"
    assert len(salon_a.appointments) == 2
    client.name = f"Renamed {attempt}"
    client.save()
    salon_a.clients[0].name = f"Renamed {attempt}"
    salon_a.book(hour=15)
    assert len(salon_a.appointments) == 3
    Business.objects.create(name="Extra", slug=f"extra-{attempt}")
    assert only(Business).count() == 1


@pytest.mark.django_db
def test_only_leaves_out_the_salons_a_test_did_not_ask_for(salon_a):
    assert only(Business, salon_a).count() == 1
    assert only(Client, salon_a).count() == 2
    assert only(User, salon_a).count() == 3
    assert only(User).count() == 0


@pytest.mark.django_db
def test_the_seed_is_stale_on_another_local_day(salon_seed, monkeypatch):
    assert salon_seed.fresh()
    monkeypatch.setattr(salon_seed, "day", salon_seed.day - timedelta(days=1))
    assert salon_seed.present()
    assert not salon_seed.fresh()


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_starts_without_the_seed_and_builds_its_own(salon_a):
    # Only the salon this test built: the seed was rolled back, never committed.
    assert list(Business.objects.values_list("slug", flat=True)) == ["salon-a"]
    assert Business.objects.get().pk == salon_a.business.pk
    assert User.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.seedless
def test_a_seedless_test_sees_only_what_it_built(salon_a):
    assert list(Business.objects.values_list("slug", flat=True)) == ["salon-a"]
    assert User.objects.count() == 3


@pytest.mark.django_db
def test_a_test_may_close_the_connection(salon_a):
    from django.core.signals import request_started

    # close_old_connections closes a connection found inside a transaction (PostgreSQL;
    # SQLite keeps its in-memory database open): the next test must still run.
    request_started.send(sender=None)


@pytest.mark.django_db
def test_after_a_closed_connection_the_seed_is_rebuilt(salon_seed, salon_a):
    assert salon_seed.fresh()
    assert Business.objects.count() == 2
    assert Client.objects.get(pk=salon_a.clients[0].pk).name == "Client A0"
