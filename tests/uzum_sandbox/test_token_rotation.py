"""A sandbox token is revoked by rotating it: ``POST control/token/rotate`` (with the token
or the owner's login) or the dashboard's "Rotate token"; the old token then answers 401."""

import html
import json

import pytest
from django.test import Client

from navbat.accounts.sandbox import sandbox_owner
from navbat.kit import sandbox_tokens
from navbat.kit.sandbox_tokens import token_for
from navbat.uzum_sandbox.models import TokenGeneration
from tests.uzum_sandbox.conftest import CONTROL, OWNER, ControlApi

ROTATE = CONTROL + "token/rotate"


def test_rotating_with_the_token_gives_a_new_one_and_the_old_one_stops(client, terminal):
    old = token_for(OWNER)
    answer = ControlApi(client, token=old).post("token/rotate")
    assert answer.status_code == 200
    new = answer.json()["token"]
    assert answer.json() == {"token": new, "generation": 1}
    assert new == token_for(OWNER) != old
    assert ControlApi(client, token=old).get("terminals").status_code == 401
    assert ControlApi(client, token=old).post("token/rotate").status_code == 401
    listed = ControlApi(client, token=new).get("terminals").json()["terminals"]
    assert [t["terminalId"] for t in listed] == [str(terminal.terminal_id)]
    assert TokenGeneration.objects.get(owner=OWNER).generation == 1


def test_rotating_needs_an_owner_and_changes_nobody_elses(client, db):
    other = token_for("someone-else")
    assert client.post(ROTATE).status_code == 401
    assert ControlApi(client, token="nbsbx_x.y").post("token/rotate").status_code == 401
    assert ControlApi(client, token=token_for(OWNER)).get("token/rotate").status_code == 405
    assert TokenGeneration.objects.count() == 0
    ControlApi(client, token=token_for(OWNER)).post("token/rotate")
    assert sandbox_tokens.owner_of_token(other) == "someone-else"


def test_a_logged_in_owner_rotates_with_the_csrf_token(login, salon_a):
    owner = sandbox_owner(salon_a.business.pk)
    old = token_for(owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(salon_a.owner)
    assert client.post(ROTATE).status_code == 403  # no CSRF token: a forged form
    assert sandbox_tokens.owner_of_token(old) == owner
    client.get("/sandbox/uzum/")
    csrf = client.cookies["csrftoken"].value
    answer = client.post(ROTATE, headers={"X-CSRFToken": csrf})
    assert answer.status_code == 200
    assert answer.json()["token"] == token_for(owner)
    assert sandbox_tokens.owner_of_token(old) is None


def test_the_dashboard_rotates_the_token_it_shows(login, salon_a):
    owner = sandbox_owner(salon_a.business.pk)
    old = token_for(owner)
    client = login(salon_a.owner)
    page = html.unescape(client.get("/sandbox/uzum/").content.decode())
    assert old in page
    assert 'id="rotate-token"' in page and "Rotate token" in page
    response = client.post("/sandbox/uzum/token/rotate")
    assert response.status_code == 302
    assert response["Location"] == "/sandbox/uzum/#token"
    page = html.unescape(client.get("/sandbox/uzum/").content.decode())
    new = token_for(owner)
    assert new != old and new in page and old not in page
    assert sandbox_tokens.owner_of_token(old) is None
    assert client.get("/sandbox/uzum/token/rotate").status_code == 405


def test_only_an_owner_rotates_from_the_dashboard(login, salon_a):
    owner = sandbox_owner(salon_a.business.pk)
    response = login(salon_a.admin).post("/sandbox/uzum/token/rotate")
    assert response.status_code == 403
    assert Client().post("/sandbox/uzum/token/rotate").status_code == 302  # to the login page
    assert sandbox_tokens.generation(owner) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rotations_at_once_each_count():
    """Two rotations at the same time both bump the generation (no lost update)."""
    import threading

    from django.db import connection

    from navbat.uzum_sandbox.tokens import rotate

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    start = threading.Barrier(4)
    results = []

    def run():
        start.wait()
        try:
            results.append(rotate(OWNER))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [1, 2, 3, 4]
    assert TokenGeneration.objects.get(owner=OWNER).generation == 4


def test_the_token_is_json_for_scripts(client, db):
    answer = ControlApi(client, token=token_for(OWNER)).post("token/rotate")
    assert json.loads(answer.content) == {"token": token_for(OWNER), "generation": 1}


def test_navbat_makes_sandbox_keys_with_the_rotated_token(salon_a, bank_in_process, settings):
    """uzum's "create a sandbox terminal" signs its call with the owner's current token."""
    from navbat.uzum import services
    from navbat.uzum_sandbox.models import MerchantService, Terminal
    from navbat.uzum_sandbox.tokens import rotate

    settings.NAVBAT_PUBLIC_URL = "http://127.0.0.1:8000"
    owner = sandbox_owner(salon_a.business.pk)
    assert rotate(owner) == 1
    connection = services.connect_new_sandbox(business=salon_a.business, author=salon_a.owner)
    assert Terminal.objects.get(terminal_id=connection.terminal_id).owner == owner
    assert MerchantService.objects.get(service_id=connection.merchant_service_id).owner == owner


def test_the_demo_prints_a_working_token_after_a_rotation(capsys, client, db):
    from navbat import demo
    from navbat.cli import main
    from navbat.uzum_sandbox.tokens import rotate

    assert main(["demo", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["sandbox_token"]
    rotate(sandbox_owner(demo.demo_business().pk))
    assert main(["demo", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)["sandbox_token"]
    assert second != first
    assert ControlApi(client, token=first).get("terminals").status_code == 401
    terminals = ControlApi(client, token=second).get("terminals").json()["terminals"]
    assert len(terminals) == 1
