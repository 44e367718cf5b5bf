"""Tenant scoping: one business never reads another's rows."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.http import Http404

from navbat.accounts.models import ApiToken, Membership, User
from navbat.booking.models import Appointment
from navbat.kit.tenancy import TenantModel, get_scoped_or_404, is_tenant_model, scoped
from navbat.salons.models import Business, Client
from tests.seed import only

pytestmark = pytest.mark.django_db


def ids(rows):
    return sorted(row.pk for row in rows)


def test_scoped_filters_by_business(salon_a, salon_b):
    assert ids(scoped(Client, salon_a.business)) == ids(salon_a.clients)
    assert ids(scoped(Client, salon_b.business)) == ids(salon_b.clients)
    assert Client.objects.count() == 4
    assert ids(scoped(Appointment, salon_a.business)) == ids(salon_a.appointments)
    assert ids(scoped(Membership, salon_b.business)) == sorted(
        Membership.objects.filter(business=salon_b.business).values_list("pk", flat=True)
    )
    assert scoped(Membership, salon_b.business).count() == 3


def test_scoped_narrows_a_queryset_it_is_given(salon_a, salon_b):
    everyone = Client.objects.order_by("pk")
    assert ids(scoped(everyone, salon_a.business)) == ids(salon_a.clients)
    other = Client.objects.filter(pk=salon_b.clients[0].pk)
    assert list(scoped(other, salon_a.business)) == []


def test_scoped_accepts_a_related_manager(salon_a):
    specialist = salon_a.specialists[0]
    assert scoped(specialist.appointments, salon_a.business).count() == 1


@pytest.mark.parametrize("model", [Business, User, ContentType])
def test_scoped_refuses_a_model_without_a_business(salon_a, model):
    with pytest.raises(TypeError, match="is not a tenant model"):
        scoped(model, salon_a.business)
    with pytest.raises(TypeError, match="is not a tenant model"):
        scoped(model.objects.all(), salon_a.business)
    with pytest.raises(TypeError, match="is not a tenant model"):
        get_scoped_or_404(model, salon_a.business, pk=1)


def test_scoped_refuses_a_missing_or_unsaved_business(salon_a):
    with pytest.raises(ValueError, match="saved business"):
        scoped(Client, None)
    with pytest.raises(ValueError, match="saved business"):
        scoped(Client, Business(name="Unsaved", slug="unsaved"))


def test_scoped_refuses_something_that_is_not_a_business(salon_a):
    # A user's (or a client's) primary key is not a business's: never filter by it.
    with pytest.raises(TypeError, match="needs a salons.Business"):
        scoped(Client, salon_a.owner)
    with pytest.raises(TypeError, match="needs a salons.Business"):
        scoped(Client, salon_a.clients[0])


def test_get_scoped_or_404_finds_the_businesss_own_row(salon_a):
    client = salon_a.clients[1]
    assert get_scoped_or_404(Client, salon_a.business, pk=client.pk) == client
    assert get_scoped_or_404(Client.objects.all(), salon_a.business, phone=client.phone) == client


def test_get_scoped_or_404_hides_another_businesss_row(salon_a, salon_b):
    foreign = salon_b.clients[0]
    with pytest.raises(Http404):
        get_scoped_or_404(Client, salon_a.business, pk=foreign.pk)
    with pytest.raises(Http404):
        get_scoped_or_404(Appointment, salon_a.business, pk=salon_b.appointments[0].pk)
    with pytest.raises(Http404):
        # Even asking for the other business's rows outright finds nothing.
        get_scoped_or_404(ApiToken, salon_a.business, business_id=salon_b.business.pk)
    # Nothing was changed on the way.
    foreign.refresh_from_db()
    assert foreign.business_id == salon_b.business.pk


@pytest.mark.parametrize("bad", ["abc", "", None, 10**30, "1; DROP TABLE x"])
def test_get_scoped_or_404_treats_a_malformed_key_as_missing(salon_a, bad):
    with pytest.raises(Http404):
        get_scoped_or_404(Client, salon_a.business, pk=bad)
    assert only(Client, salon_a).count() == 2


def test_get_scoped_or_404_without_a_business_is_404(salon_a):
    with pytest.raises(Http404):
        get_scoped_or_404(Client, None, pk=salon_a.clients[0].pk)
    with pytest.raises(Http404):
        get_scoped_or_404(Client, Business(name="Unsaved"), pk=salon_a.clients[0].pk)


def test_is_tenant_model():
    assert is_tenant_model(Client) is True
    assert is_tenant_model(Membership) is True
    assert is_tenant_model(ApiToken) is True
    assert is_tenant_model(Business) is False
    assert is_tenant_model(User) is False
    assert TenantModel._meta.abstract is True


def test_a_correlated_subquery_is_scoped_to_the_outer_rows_business(salon_a, salon_b):
    from django.db.models import Exists, OuterRef

    from navbat.kit.tenancy import scoped_to_outer
    from navbat.salons.models import Client, Specialist

    # A specialist "has a client named like them" only within their own business.
    twin = salon_b.clients[0]
    twin.name = salon_a.specialists[0].name
    twin.save(update_fields=["name"])
    named = Exists(scoped_to_outer(Client).filter(name=OuterRef("name")))
    flagged = Specialist.objects.filter(pk=salon_a.specialists[0].pk).annotate(twin=named)
    assert flagged.get().twin is False
    with pytest.raises(TypeError):
        scoped_to_outer(type(salon_a.business))
