"""The app's open-service link is public and every opening asks the merchant's /check: it is
limited per client address and per service (HTTP 429, nothing stored, nothing sent), and
the openings nobody paid are kept only up to a cap per service."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from navbat.uzum_sandbox import app
from navbat.uzum_sandbox.models import AppTransaction


@pytest.fixture
def sent(monkeypatch):
    """The merchant's /check, answered without a server: every URL the app posted to."""
    urls = []

    def fake_post(url, **kwargs):
        urls.append(url)
        return httpx.Response(
            200, json={"status": "OK", "data": {}}, request=httpx.Request("POST", url)
        )

    monkeypatch.setattr(app.httpx, "post", fake_post)
    return urls


@pytest.fixture
def service(make_service):
    return make_service(merchant_base_url="http://127.0.0.1:8000/uzum/merchant/x")


def open_link(client, service, address="10.1.1.1", order="ORD-1"):
    return client.get(
        "/sandbox/uzum/open-service",
        {"serviceId": service.service_id, "order": order},
        REMOTE_ADDR=address,
    )


def test_one_address_opens_at_most_30_links_a_minute(client, service, make_service, sent):
    for n in range(30):
        assert open_link(client, service, order=f"O{n}").status_code == 200, n
    assert len(sent) == 30
    refused = open_link(client, service)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert "Too many" in refused.content.decode()
    other = make_service(merchant_base_url="http://127.0.0.1:8000/uzum/merchant/y")
    assert open_link(client, other).status_code == 429  # the address, whatever service
    assert (AppTransaction.objects.count(), len(sent)) == (30, 30)
    assert open_link(client, service, address="10.1.1.2").status_code == 200
    assert len(sent) == 31


def test_openings_older_than_a_minute_no_longer_count(client, service, sent):
    for n in range(30):
        open_link(client, service, order=f"O{n}")
    AppTransaction.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert open_link(client, service).status_code == 200


def test_one_service_is_opened_at_most_60_times_a_minute(client, service, make_service, sent):
    for n in range(60):
        assert open_link(client, service, address=f"10.2.0.{n}").status_code == 200, n
    assert open_link(client, service, address="10.3.0.1").status_code == 429
    assert (AppTransaction.objects.count(), len(sent)) == (60, 60)
    other = make_service(merchant_base_url="http://127.0.0.1:8000/uzum/merchant/y")
    assert open_link(client, other, address="10.3.0.1").status_code == 200


def test_the_limits_are_settings(client, service, sent, settings):
    settings.NAVBAT_SANDBOX_APP_OPENS_PER_ADDRESS = 2
    assert [open_link(client, service).status_code for _ in range(3)] == [200, 200, 429]
    settings.NAVBAT_SANDBOX_APP_OPENS_PER_SERVICE = 3
    assert open_link(client, service, address="10.9.9.9").status_code == 200
    assert open_link(client, service, address="10.9.9.8").status_code == 429


def test_openings_nobody_paid_are_kept_only_up_to_a_cap(client, service, sent, settings):
    settings.NAVBAT_SANDBOX_APP_UNPAID_KEPT = 3
    paid = AppTransaction.objects.create(
        service=service, params={"order": "P"}, payment_source="UZCARD", status="CONFIRMED"
    )
    for n in range(5):
        assert open_link(client, service, address=f"10.4.0.{n}", order=f"O{n}").status_code == 200
    unpaid = AppTransaction.objects.filter(payment_source="").order_by("id")
    assert [tx.params["order"] for tx in unpaid] == ["O2", "O3", "O4"]
    assert AppTransaction.objects.filter(pk=paid.pk).exists()
