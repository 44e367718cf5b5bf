import pytest
from django.test import RequestFactory, override_settings

from navbat.kit.jsonbody import BadJSON, loads_bounded
from navbat.kit.net import client_ip


def _request(remote="10.0.0.5", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@override_settings(NAVBAT_TRUSTED_PROXIES=0)
def test_without_trusted_proxies_the_socket_address_counts():
    assert client_ip(_request(forwarded="1.2.3.4")) == "10.0.0.5"


@override_settings(NAVBAT_TRUSTED_PROXIES=1)
def test_one_trusted_proxy_names_the_last_forwarded_hop():
    # The client claimed 6.6.6.6; our balancer appended the address it saw, 1.2.3.4.
    assert client_ip(_request(forwarded="6.6.6.6, 1.2.3.4")) == "1.2.3.4"


@override_settings(NAVBAT_TRUSTED_PROXIES=2)
def test_two_trusted_proxies_skip_the_inner_one():
    assert client_ip(_request(forwarded="6.6.6.6, 1.2.3.4, 10.0.0.9")) == "1.2.3.4"


@override_settings(NAVBAT_TRUSTED_PROXIES=2)
def test_a_request_that_bypassed_the_proxies_is_keyed_on_the_socket():
    assert client_ip(_request(forwarded="1.2.3.4")) == "10.0.0.5"
    assert client_ip(_request()) == "10.0.0.5"


@override_settings(NAVBAT_TRUSTED_PROXIES=1)
def test_a_forged_non_address_falls_back_to_the_socket():
    assert client_ip(_request(forwarded="not-an-ip")) == "10.0.0.5"
    assert client_ip(_request(remote="garbage")) == "?"


def test_bounded_json_parses_ordinary_objects():
    assert loads_bounded(b'{"a": [1, {"b": "[[[["}]}', max_bytes=100) == {"a": [1, {"b": "[[[["}]}


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5000 + b"1" + b"}" * 5000, b"\xff", b"{", b""],
)
def test_bounded_json_refuses_deep_broken_or_empty_bodies(raw):
    with pytest.raises(BadJSON):
        loads_bounded(raw, max_bytes=1_000_000)


def test_bounded_json_refuses_large_bodies_before_parsing():
    with pytest.raises(BadJSON, match="too large"):
        loads_bounded(b"[" + b"1," * 100 + b"1]", max_bytes=50)


def test_bounded_json_counts_depth_outside_strings_only():
    assert loads_bounded('"' + "[" * 100 + '"', max_bytes=1000, max_depth=2) == "[" * 100
    assert loads_bounded(r'["\"[[[[["]', max_bytes=1000, max_depth=2) == ['"[[[[[']
    with pytest.raises(BadJSON, match="deeply"):
        loads_bounded("[[[1]]]", max_bytes=1000, max_depth=2)
