"""API tokens: shown once, stored as a hash, revocable."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from navbat.accounts.models import ApiToken, hash_token
from navbat.accounts.services import business_for_token, issue_api_token

pytestmark = pytest.mark.django_db


def test_issue_api_token_stores_only_a_hash(salon_a):
    token, raw = issue_api_token(
        business=salon_a.business, name="Website", created_by=salon_a.owner
    )
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw.startswith("nbt_")
    assert len(raw) >= 40
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert stored.prefix == raw[:12]
    assert stored.name == "Website"
    assert stored.business_id == salon_a.business.pk
    assert stored.created_by_id == salon_a.owner.pk
    assert stored.revoked_at is None
    for field in ApiToken._meta.concrete_fields:
        value = getattr(stored, field.attname)
        assert value != raw
        assert not (isinstance(value, str) and raw in value)


def test_tokens_are_unique(salon_a):
    raws = {issue_api_token(business=salon_a.business, name="t")[1] for _ in range(20)}
    assert len(raws) == 20


def test_token_name_is_cut_to_fit(salon_a):
    token, _raw = issue_api_token(business=salon_a.business, name="n" * 300)
    assert ApiToken.objects.get(pk=token.pk).name == "n" * 100


def test_business_for_token_finds_the_business(salon_a, salon_b):
    assert business_for_token(salon_a.api_token) == salon_a.business
    assert business_for_token(salon_b.api_token) == salon_b.business


def test_business_for_token_remembers_when_it_was_used(salon_a):
    token = ApiToken.objects.get(token_hash=hash_token(salon_a.api_token))
    assert token.last_used_at is None
    business_for_token(salon_a.api_token)
    token.refresh_from_db()
    first = token.last_used_at
    assert timezone.now() - first < timedelta(minutes=1)
    # Within five minutes the row is not written again.
    business_for_token(salon_a.api_token)
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=6))
    business_for_token(salon_a.api_token)
    token.refresh_from_db()
    assert token.last_used_at > first


def test_a_revoked_token_opens_nothing(salon_a):
    ApiToken.objects.filter(token_hash=hash_token(salon_a.api_token)).update(
        revoked_at=timezone.now()
    )
    assert business_for_token(salon_a.api_token) is None
    assert ApiToken.objects.get(token_hash=hash_token(salon_a.api_token)).last_used_at is None


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        None,
        "nbt_",
        "nbt_wrong",
        "Bearer nbt_wrong",
        "x" * 201,
        "nbt_" + "a" * 10_000,
        "\x00" * 50,
        "\ud800nbt",  # a lone surrogate cannot be encoded: still just a wrong token
        "' OR 1=1 --",
        12345,
        b"nbt_bytes",
    ],
)
def test_garbage_opens_nothing(salon_a, garbage):
    assert business_for_token(garbage) is None
    assert ApiToken.objects.filter(last_used_at__isnull=False).count() == 0


def test_a_long_prefix_of_a_real_token_opens_nothing(salon_a):
    assert business_for_token(salon_a.api_token[:-1]) is None
    assert business_for_token(salon_a.api_token + "x") is None
    assert business_for_token(salon_a.api_token.upper()) is None
