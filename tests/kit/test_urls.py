"""Absolute addresses through reverse() on the public root (navbat/kit/urls.py)."""

from navbat.kit.urls import public_url, public_url_if_mounted


def test_addresses_are_built_on_the_public_root_not_the_request(settings):
    settings.NAVBAT_PUBLIC_URL = "https://navbat.example.uz/"
    assert public_url("pay:page", token="t" * 20) == "https://navbat.example.uz/pay/" + "t" * 20
    assert public_url("healthz") == "https://navbat.example.uz/healthz"


def test_an_address_that_is_not_mounted_is_empty(settings):
    settings.NAVBAT_PUBLIC_URL = "https://navbat.example.uz"
    assert public_url_if_mounted("no-such-page") == ""
    assert public_url_if_mounted("healthz") == "https://navbat.example.uz/healthz"
