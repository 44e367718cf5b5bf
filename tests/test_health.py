"""/healthz: liveness and database reachability for load balancers."""

from unittest import mock

import pytest
from django.db import DatabaseError, InterfaceError, OperationalError
from django.test import Client

URL = "/healthz"
DOWN = {"status": "error", "database": "unavailable"}


@pytest.mark.django_db
def test_healthy(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_head_is_answered_for_load_balancers(client):
    response = client.head(URL)
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("could not connect to server"),
        InterfaceError("connection already closed"),
        DatabaseError("disk I/O error"),
        RuntimeError("driver crashed"),
    ],
)
def test_database_down_is_503_never_500(client, error):
    with mock.patch("navbat.health.connection.cursor", side_effect=error) as cursor:
        response = client.get(URL)
    assert cursor.called
    assert response.status_code == 503
    assert response.json() == DOWN


def test_query_failing_is_503(client):
    broken = mock.MagicMock()
    broken.__enter__.return_value.execute.side_effect = OperationalError("server closed")
    with mock.patch("navbat.health.connection.cursor", return_value=broken):
        response = client.get(URL)
    assert response.status_code == 503
    assert response.json() == DOWN


def test_health_raises_nothing_to_the_client_even_when_raising_is_on():
    strict = Client(raise_request_exception=True)
    with mock.patch("navbat.health.connection.cursor", side_effect=OperationalError("down")):
        response = strict.get(URL)
    assert response.status_code == 503


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_reads(client, method):
    assert getattr(client, method)(URL).status_code == 405


@pytest.mark.django_db
def test_health_needs_no_login_and_sets_no_cookie(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert not response.cookies
