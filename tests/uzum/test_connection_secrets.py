"""Secrets at rest: the API key and the Merchant API password are never in the database in
clear, survive a rotation of the encryption keys, and never reach a log line."""

import logging
import traceback

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db

from navbat.kit import crypto
from navbat.uzum.models import Connection

pytestmark = pytest.mark.django_db

PASSWORD = "merchant-password-Xq81"


def raw_row(pk: int) -> dict:
    """The row as the database holds it, every column, read with SQL (not through the
    model, which would decrypt)."""
    table = db.ops.quote_name(Connection._meta.db_table)
    with db.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])  # noqa: S608
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


@pytest.fixture
def connected(salon_a, connect_uzum):
    return connect_uzum(
        salon_a,
        merchant_service_id=100_555,
        merchant_login="merchant100555",
        merchant_password=PASSWORD,
        app_payments=True,
    )


def test_the_table_never_holds_the_secrets_in_clear(connected):
    key = connected.sandbox_terminal.api_key
    assert Connection._meta.db_table == "uzum_connection"
    row = raw_row(connected.pk)
    assert len(row) > 20
    for column, value in row.items():
        assert key not in str(value), column
        assert PASSWORD not in str(value), column
        assert key[-12:] not in str(value), column
    assert row["api_key"].startswith("fernet:")
    assert row["merchant_password"].startswith("fernet:")
    # and what is stored opens to the secrets with the installation's keys
    assert crypto.decrypt(row["api_key"]) == key
    assert crypto.decrypt(row["merchant_password"]) == PASSWORD


def test_rotation_re_encrypts_and_the_secrets_still_read_back(connected, settings, capsys):
    key = connected.sandbox_terminal.api_key
    old_keys = list(settings.NAVBAT_ENCRYPTION_KEYS)
    before = raw_row(connected.pk)
    new_key = Fernet.generate_key().decode()

    settings.NAVBAT_ENCRYPTION_KEYS = [new_key, *old_keys]
    call_command("rotate_encryption_keys")
    assert "re-encrypted" in capsys.readouterr().out
    after = raw_row(connected.pk)
    assert after["api_key"] != before["api_key"]
    assert after["merchant_password"] != before["merchant_password"]
    assert Fernet(new_key.encode()).decrypt(after["api_key"].removeprefix("fernet:").encode()) == (
        key.encode()
    )

    # The old keys can go: the new one alone opens both secrets.
    settings.NAVBAT_ENCRYPTION_KEYS = [new_key]
    fresh = Connection.objects.get(pk=connected.pk)
    assert fresh.api_key == key
    assert fresh.merchant_password == PASSWORD
    assert fresh.masked_api_key == "•" * 8 + key[-4:]


def test_without_the_key_the_stored_value_opens_to_nothing(connected, settings):
    settings.NAVBAT_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="no key in NAVBAT_ENCRYPTION_KEYS opens this value"):
        Connection.objects.get(pk=connected.pk)


def log_texts(records) -> str:
    texts = []
    for record in records:
        texts += [record.getMessage(), repr(record.args), repr(record.__dict__)]
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(texts)


def test_the_connect_flow_never_logs_a_secret(
    salon_a, login, bank_in_process, sandbox_terminal, caplog, settings
):
    """Through the page: a wrong key, a right one, the sandbox's "make me a terminal"."""
    settings.NAVBAT_SANDBOX = True
    for name in ("", "navbat", "navbat.uzum", "navbat.uzum.checkout", "httpx", "django"):
        caplog.set_level(logging.DEBUG, logger=name)
    terminal = sandbox_terminal()
    wrong = "wrong-" + "7" * 58
    client = login(salon_a.owner)
    base = {
        "environment": "sandbox",
        "terminal_id": str(terminal.terminal_id),
        "merchant_service_id": "100556",
        "merchant_login": "merchant100556",
        "merchant_password": PASSWORD,
        "card_payments": "on",
        "app_payments": "on",
    }
    assert client.post("/integrations/uzum/connect", {**base, "api_key": wrong}).status_code == 400
    right = client.post("/integrations/uzum/connect", {**base, "api_key": terminal.api_key})
    assert right.status_code == 302
    made = client.post(
        "/integrations/uzum/connect",
        {"environment": "sandbox", "card_payments": "on", "create_sandbox": "1"},
    )
    assert made.status_code == 302
    sandbox_made = Connection.objects.get(business=salon_a.business, is_active=True)

    logged = log_texts(caplog.records)
    assert "Uzum Bank connected for business" in logged  # the flow did log
    for secret in (
        terminal.api_key,
        wrong,
        PASSWORD,
        sandbox_made.api_key,
        sandbox_made.merchant_password,
    ):
        assert secret not in logged


def test_the_operators_admin_shows_the_secrets_masked(connected, client):
    from navbat.accounts.models import User

    operator = User.objects.create_superuser(email="ops@navbat.uz", password="x-Very-long-9")
    client.force_login(operator)
    key = connected.sandbox_terminal.api_key
    for url in (
        "/admin/uzum/connection/",
        f"/admin/uzum/connection/{connected.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert key not in body
        assert PASSWORD not in body
    body = client.get(f"/admin/uzum/connection/{connected.pk}/change/").content.decode()
    assert "•" * 8 + key[-4:] in body
