"""The sandbox token: derived from the owner, its generation and SECRET_KEY (only)."""

import pytest
from django.test import RequestFactory

from navbat.kit import sandbox_tokens
from navbat.kit.sandbox_tokens import bearer_token, owner_of_token, token_for
from navbat.uzum_sandbox.tokens import rotate


@pytest.mark.django_db
def test_a_token_names_its_owner_and_nothing_else(settings):
    settings.SECRET_KEY = "k" * 50
    token = token_for("business-7")
    assert token.startswith("nbsbx_business-7.")
    assert token == token_for("business-7")  # derived, the same every time
    assert owner_of_token(token) == "business-7"
    assert token_for("business-8") != token
    owner, mac = token.removeprefix("nbsbx_").rsplit(".", 1)
    assert owner_of_token(f"nbsbx_business-8.{mac}") is None
    assert owner_of_token(token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    for junk in ("", "nbsbx_", "nbsbx_.abc", "business-7." + mac, "nbsbx_a b." + mac):
        assert owner_of_token(junk) is None


@pytest.mark.django_db
def test_a_new_secret_revokes_every_token_even_with_the_old_one_as_a_fallback(settings):
    """SECRET_KEY_FALLBACKS keep sessions alive through a change of the secret; sandbox
    tokens are revoked by it, as the module says."""
    settings.SECRET_KEY = "old" * 20
    token = token_for("business-7")
    settings.SECRET_KEY = "new" * 20
    settings.SECRET_KEY_FALLBACKS = []
    assert owner_of_token(token) is None
    settings.SECRET_KEY_FALLBACKS = ["old" * 20]
    assert owner_of_token(token) is None
    assert owner_of_token(token_for("business-7")) == "business-7"


@pytest.mark.django_db
def test_rotating_an_owners_generation_revokes_its_token_only(settings):
    settings.SECRET_KEY = "k" * 50
    old, other = token_for("business-7"), token_for("business-8")
    assert sandbox_tokens.generation("business-7") == 0
    assert rotate("business-7") == 1
    assert sandbox_tokens.generation("business-7") == 1
    new = token_for("business-7")
    assert new != old and new.startswith("nbsbx_business-7.")
    assert owner_of_token(old) is None
    assert owner_of_token(new) == "business-7"
    assert owner_of_token(other) == "business-8"
    assert rotate("business-7") == 2
    assert owner_of_token(new) is None


@pytest.mark.parametrize("owner", ["", "a" * 65, "a.b", "a b", "ä"])
def test_an_owner_must_be_a_plain_short_name(owner):
    with pytest.raises(ValueError):
        token_for(owner)


def test_the_bearer_header():
    factory = RequestFactory()
    assert bearer_token(factory.get("/")) is None
    assert bearer_token(factory.get("/", headers={"Authorization": "Bearer abc"})) == "abc"
    assert bearer_token(factory.get("/", headers={"Authorization": "bearer  abc "})) == "abc"
    assert bearer_token(factory.get("/", headers={"Authorization": "Basic abc"})) == ""


@pytest.mark.django_db
def test_the_request_seam_names_only_an_owners_business(salon_a, rf):
    from navbat.accounts.models import Membership

    def request_of(user):
        request = rf.get("/")
        request.user = user
        request.membership = Membership.objects.filter(user=user).first()
        return request

    assert sandbox_tokens.owner_of_request(request_of(salon_a.owner)) == (
        f"business-{salon_a.business.pk}"
    )
    assert sandbox_tokens.owner_of_request(request_of(salon_a.admin)) is None
    assert sandbox_tokens.owner_of_request(request_of(salon_a.specialist_user)) is None
    from django.contrib.auth.models import AnonymousUser

    anonymous = rf.get("/")
    anonymous.user = AnonymousUser()
    assert sandbox_tokens.owner_of_request(anonymous) is None
