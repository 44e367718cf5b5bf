"""Sandbox terminals and services made before the sandbox had owners: the uzum data
migration gives each to the business whose sandbox connection uses it, and only then."""

import importlib

import pytest
from django.apps import apps
from django.db import connection as db_connection
from django.db.migrations.executor import MigrationExecutor

from navbat.accounts.sandbox import sandbox_owner
from navbat.uzum_sandbox.models import MerchantService, Terminal
from tests.schema import migrate_to_latest

MIGRATION = "navbat.uzum.migrations.0003_sandbox_rows_owned_by_their_connections_business"


def adopt():
    importlib.import_module(MIGRATION).adopt_sandbox_rows(apps, None)


@pytest.fixture
def pre_owner_rows(salon_a, salon_b, connect_uzum):
    """Two salons on the sandbox, their terminals and services as they were before owners."""
    made = {}
    for n, salon in enumerate((salon_a, salon_b)):
        connection = connect_uzum(salon)
        service = MerchantService.objects.create(
            service_id=700_001 + n,
            login=f"m{n}",
            password="p",
            merchant_base_url="http://127.0.0.1:8000/uzum/merchant/x",
        )
        connection.merchant_service_id = service.service_id
        connection.save(update_fields=["merchant_service_id"])
        made[salon.business.pk] = (connection.sandbox_terminal, service)
    Terminal.objects.update(owner="")
    MerchantService.objects.update(owner="")
    return made


@pytest.mark.django_db
def test_each_row_goes_to_the_business_that_connected_with_it(pre_owner_rows):
    stray = Terminal.objects.create(pay_types=["ONE_STEP"])
    stray_service = MerchantService.objects.create(
        service_id=799_999, login="s", password="p", merchant_base_url="http://127.0.0.1:8000/x"
    )
    adopt()
    for business_id, (terminal, service) in pre_owner_rows.items():
        owner = sandbox_owner(business_id)
        terminal.refresh_from_db()
        service.refresh_from_db()
        assert (terminal.owner, service.owner) == (owner, owner)
    stray.refresh_from_db()
    stray_service.refresh_from_db()
    assert (stray.owner, stray_service.owner) == ("", "")  # nobody's connection: nobody's


@pytest.mark.django_db
def test_an_owned_row_keeps_its_owner_and_a_shared_one_stays_nobodys(
    pre_owner_rows, salon_a, salon_b
):
    from navbat.uzum.models import Connection

    (terminal_a, service_a), (terminal_b, service_b) = pre_owner_rows.values()
    Terminal.objects.filter(pk=terminal_a.pk).update(owner="someone-else")
    # Salon B once typed in salon A's service id too: whose it is, nobody can tell.
    Connection.objects.filter(business=salon_b.business).update(
        merchant_service_id=service_a.service_id
    )
    adopt()
    terminal_a.refresh_from_db()
    service_a.refresh_from_db()
    service_b.refresh_from_db()
    assert terminal_a.owner == "someone-else"
    assert service_a.owner == ""
    assert service_b.owner == ""


@pytest.mark.django_db(transaction=True)
def test_the_migration_runs_forward_from_before(salon_a, connect_uzum, request):
    """Back to before it and forward again, as an upgrade from the unowned sandbox does."""
    request.addfinalizer(migrate_to_latest)
    terminal = connect_uzum(salon_a).sandbox_terminal
    Terminal.objects.filter(pk=terminal.pk).update(owner="")
    executor = MigrationExecutor(db_connection)
    executor.migrate([("uzum", "0002_merchant_transactions")])
    executor = MigrationExecutor(db_connection)  # a fresh graph, as a new process has
    executor.migrate([("uzum", MIGRATION.rsplit(".", 1)[1])])
    terminal.refresh_from_db()
    assert terminal.owner == sandbox_owner(salon_a.business.pk)
