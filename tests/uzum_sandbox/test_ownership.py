"""The sandbox is each salon's own: its control API and dashboard answer only a logged-in
owner or a sandbox token, and only about that owner's terminals, services, orders,
app transactions and callbacks. The Uzum-facing pages keep the bank's own authentication."""

import html
import json

import pytest
from django.test import Client

from navbat.accounts.sandbox import sandbox_owner
from navbat.kit.sandbox_tokens import token_for
from navbat.uzum_sandbox import bank, callbacks
from navbat.uzum_sandbox.models import AppTransaction, Callback, MerchantService, Order, Terminal
from tests.uzum_sandbox.conftest import CARD, CONTROL, ControlApi
from tests.uzum_sandbox.merchant import register_order


@pytest.fixture
def two_sandboxes(salon_a, salon_b, make_terminal, make_service):
    """Salon A's and salon B's sandbox rows: a terminal with a paid order and its callback,
    a service with an app transaction."""
    rows = {}
    for salon in (salon_a, salon_b):
        owner = sandbox_owner(salon.business.pk)
        terminal = make_terminal(
            owner=owner,
            merchant_name=salon.business.name,
            payment_callback_url="http://127.0.0.1:8000/uzum/checkout/x/callback",
        )
        order = register_order(terminal)
        bank.pay(order_id=order.order_id, card_number=CARD)
        service = make_service(owner=owner, merchant_name=salon.business.name)
        trans = AppTransaction.objects.create(
            service=service, params={"order": "X"}, amount=1000, status="CONFIRMED"
        )
        rows[salon.business.pk] = {
            "owner": owner,
            "terminal": terminal,
            "order": Order.objects.get(pk=order.pk),
            "service": service,
            "trans": trans,
            "callback": Callback.objects.get(terminal=terminal),
        }
    return rows[salon_a.business.pk], rows[salon_b.business.pk]


def secrets_of(rows: dict) -> list[str]:
    return [
        str(rows["terminal"].terminal_id),
        rows["terminal"].api_key,
        rows["service"].password,
        str(rows["order"].order_id),
        str(rows["trans"].trans_id),
    ]


STRANGER_CALLS = [
    ("GET", "terminals"),
    ("POST", "terminals"),
    ("GET", "services"),
    ("POST", "services"),
]


@pytest.mark.parametrize("method,path", STRANGER_CALLS)
def test_a_stranger_gets_401_and_nothing_is_listed_or_made(two_sandboxes, method, path):
    a, b = two_sandboxes
    before = (Terminal.objects.count(), MerchantService.objects.count())
    body = (
        {"merchantBaseUrl": "http://127.0.0.1:8000/uzum/merchant/x"} if path == "services" else {}
    )
    response = Client().generic(method, CONTROL + path, json.dumps(body), "application/json")
    assert response.status_code == 401
    assert response.json() == {
        "error": "Log in to navbat as the business owner, or send Authorization: Bearer "
        "<sandbox token>"
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="navbat sandbox"'
    text = response.content.decode()
    for secret in secrets_of(a) + secrets_of(b):
        assert secret not in text
    assert (Terminal.objects.count(), MerchantService.objects.count()) == before


def test_a_stranger_reaches_no_row_by_its_id(two_sandboxes):
    a, _b = two_sandboxes
    stranger = Client()
    paths = [
        f"terminals/{a['terminal'].terminal_id}",
        f"terminals/{a['terminal'].terminal_id}/faults",
        f"services/{a['service'].service_id}",
        f"orders/{a['order'].order_id}",
        f"transactions/{a['trans'].trans_id}",
    ]
    for path in paths:
        assert stranger.get(CONTROL + path).status_code == 401, path
    pay = stranger.post(
        CONTROL + f"orders/{a['order'].order_id}/pay", {"cardNumber": CARD}, "application/json"
    )
    assert pay.status_code == 401


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer nonsense",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        # the right shape, another owner's name under salon A's signature
        "forged",
    ],
)
def test_a_wrong_token_is_401(two_sandboxes, authorization):
    a, b = two_sandboxes
    if authorization == "forged":
        mac = token_for(a["owner"]).rsplit(".", 1)[1]
        authorization = f"Bearer nbsbx_{b['owner']}.{mac}"
    response = Client().get(CONTROL + "terminals", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert str(b["terminal"].terminal_id) not in response.content.decode()


def test_a_token_lists_only_its_owners_rows(client, two_sandboxes):
    a, b = two_sandboxes
    control = ControlApi(client, token=token_for(a["owner"]))
    terminals = control.get("terminals").json()["terminals"]
    assert [t["terminalId"] for t in terminals] == [str(a["terminal"].terminal_id)]
    assert terminals[0]["apiKey"] == a["terminal"].api_key
    services = control.get("services").json()["services"]
    assert [s["serviceId"] for s in services] == [a["service"].service_id]
    assert control.get(f"orders/{a['order'].order_id}").status_code == 200
    assert control.get(f"transactions/{a['trans'].trans_id}").status_code == 200


def test_another_owners_rows_are_404_and_unchanged(client, two_sandboxes):
    a, b = two_sandboxes
    control = ControlApi(client, token=token_for(a["owner"]))
    for path in (
        f"terminals/{b['terminal'].terminal_id}",
        f"terminals/{b['terminal'].terminal_id}/faults",
        f"services/{b['service'].service_id}",
        f"services/{b['service'].service_id}/faults",
        f"orders/{b['order'].order_id}",
        f"transactions/{b['trans'].trans_id}",
    ):
        response = control.get(path)
        assert response.status_code == 404, path
        assert b["terminal"].api_key not in response.content.decode()
    hook = "http://127.0.0.1:8000/uzum/checkout/a/callback"
    assert (
        control.patch(f"terminals/{b['terminal'].terminal_id}", {"paymentCallbackUrl": hook})
    ).status_code == 404
    assert (
        control.post(f"terminals/{b['terminal'].terminal_id}/faults", {"callbacks": "drop"})
    ).status_code == 404
    assert control.delete(f"terminals/{b['terminal'].terminal_id}/faults").status_code == 404
    assert (
        control.patch(f"services/{b['service'].service_id}", {"password": "taken-over-1"})
    ).status_code == 404
    new_order = register_order(b["terminal"])
    assert (
        control.post(f"orders/{new_order.order_id}/pay", {"cardNumber": CARD})
    ).status_code == 404
    b_terminal = Terminal.objects.get(pk=b["terminal"].pk)
    assert (b_terminal.payment_callback_url, b_terminal.faults) == (
        b["terminal"].payment_callback_url,
        {},
    )
    assert MerchantService.objects.get(pk=b["service"].pk).password == b["service"].password
    assert Order.objects.get(pk=new_order.pk).status == "REGISTERED"
    # A terminal id another owner holds cannot be taken over by creating it again.
    taken = control.post("terminals", {"terminalId": str(b["terminal"].terminal_id)})
    assert taken.status_code == 400
    assert Terminal.objects.get(pk=b["terminal"].pk).owner == b["owner"]


def test_what_a_token_makes_is_its_owners(client, two_sandboxes):
    a, _b = two_sandboxes
    control = ControlApi(client, token=token_for(a["owner"]))
    terminal = control.post("terminals", {"merchantName": "New"}).json()
    service = control.post(
        "services", {"merchantBaseUrl": "http://127.0.0.1:8000/uzum/merchant/x"}
    ).json()
    assert Terminal.objects.get(terminal_id=terminal["terminalId"]).owner == a["owner"]
    assert MerchantService.objects.get(service_id=service["serviceId"]).owner == a["owner"]


def test_a_logged_in_owner_acts_for_their_business(login, salon_a, two_sandboxes):
    a, b = two_sandboxes
    client = login(salon_a.owner)
    listed = client.get(CONTROL + "terminals").json()["terminals"]
    assert [t["terminalId"] for t in listed] == [str(a["terminal"].terminal_id)]
    made = client.post(CONTROL + "terminals", "{}", "application/json")
    assert made.status_code == 201
    assert Terminal.objects.get(terminal_id=made.json()["terminalId"]).owner == a["owner"]


@pytest.mark.parametrize("who", ["admin", "specialist_user"])
def test_members_who_are_not_owners_are_403(login, salon_a, two_sandboxes, who):
    client = login(getattr(salon_a, who))
    response = client.get(CONTROL + "terminals")
    assert response.status_code == 403
    assert response.json() == {"error": "Only the business's owners use the sandbox bank"}
    assert client.get("/sandbox/uzum/").status_code == 403


def test_a_session_needs_the_csrf_token_a_sandbox_token_does_not(salon_a, two_sandboxes):
    a, _b = two_sandboxes
    before = Terminal.objects.count()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(salon_a.owner)
    forged = browser.post(CONTROL + "terminals", "{}", "application/json")
    assert forged.status_code == 403
    assert forged.json()["error"].startswith("CSRF check failed")
    assert Terminal.objects.count() == before
    browser.get("/sandbox/uzum/")  # the dashboard's reverse form sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    own = browser.post(
        CONTROL + "terminals", "{}", "application/json", headers={"X-CSRFToken": csrf}
    )
    assert own.status_code == 201
    before += 1
    script = Client(enforce_csrf_checks=True)
    made = script.post(
        CONTROL + "terminals",
        "{}",
        "application/json",
        headers={"Authorization": f"Bearer {token_for(a['owner'])}"},
    )
    assert made.status_code == 201
    assert Terminal.objects.count() == before + 1


# ------------------------------------------------------------------------------ dashboard


def test_the_dashboard_sends_a_stranger_to_the_login(two_sandboxes):
    a, b = two_sandboxes
    response = Client().get("/sandbox/uzum/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/sandbox/uzum/"
    for secret in secrets_of(a) + secrets_of(b):
        assert secret not in response.content.decode()


def test_the_dashboard_shows_the_owner_only_their_business(login, salon_a, two_sandboxes):
    a, b = two_sandboxes
    callbacks.deliver_due()
    response = login(salon_a.owner).get("/sandbox/uzum/")
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert str(a["terminal"].terminal_id) in body
    assert str(a["order"].order_id) in body
    assert f'data-transaction="{a["trans"].trans_id}"' in body
    assert f'data-service="{a["service"].service_id}"' in body
    assert f'data-callback="{a["callback"].pk}"' in body
    for secret in secrets_of(b):
        assert secret not in body
    assert f'data-callback="{b["callback"].pk}"' not in body
    assert f'data-service="{b["service"].service_id}"' not in body
    assert a["terminal"].api_key not in body and a["service"].password not in body
    assert token_for(a["owner"]) in body  # the owner's own token, for scripts


def test_another_owners_transaction_cannot_be_reversed(login, salon_a, two_sandboxes, monkeypatch):
    from navbat.uzum_sandbox import app

    a, b = two_sandboxes
    sent = []
    monkeypatch.setattr(app, "_send", lambda *args: sent.append(args))
    client = login(salon_a.owner)
    response = client.post(f"/sandbox/uzum/transactions/{b['trans'].trans_id}/reverse")
    assert response.status_code == 302
    assert sent == []
    assert AppTransaction.objects.get(pk=b["trans"].pk).status == "CONFIRMED"
    assert Client().post(
        f"/sandbox/uzum/transactions/{a['trans'].trans_id}/reverse"
    ).status_code in (
        302,
        403,
    )
    assert sent == []


# -------------------------------------------------------------------- the Uzum-facing pages


def test_the_app_pays_only_through_an_owned_service(client, make_service, monkeypatch):
    """A service from before the sandbox had owners (anyone could make one, pointing
    anywhere with any password) pays nothing."""
    from navbat.uzum_sandbox import app

    sent = []
    monkeypatch.setattr(app, "_send", lambda *args: sent.append(args))
    service = make_service(owner="")
    response = client.get(
        "/sandbox/uzum/open-service", {"serviceId": service.service_id, "order": "ABC"}
    )
    assert response.status_code == 404
    assert "Service not found" in html.unescape(response.content.decode())
    assert sent == []
    assert not AppTransaction.objects.exists()
