"""Who may open which administration page."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

from navbat.accounts.models import Membership, Role
from navbat.accounts.permissions import business_required, manager_required
from navbat.salons.middleware import BusinessMiddleware
from navbat.salons.models import Specialist
from navbat.salons.permissions import own_specialist_id
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def page(request):
    return HttpResponse(f"ok {request.business.pk} {own_specialist_id(request)}")


def call(view, user, path="/somewhere/?x=1"):
    """Run ``view`` as the middleware would, for ``user``."""
    request = RequestFactory().get(path)
    request.user = user
    return BusinessMiddleware(view)(request)


@pytest.mark.parametrize("decorator", [business_required, manager_required])
def test_anonymous_users_go_to_the_login_page(decorator):
    response = call(decorator(page), AnonymousUser())
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/somewhere/%3Fx%3D1"


@pytest.mark.parametrize("decorator", [business_required, manager_required])
def test_a_user_without_a_business_is_refused(decorator):
    loner = UserFactory(email="loner@example.uz", password="x-long-password-1")
    with pytest.raises(PermissionDenied):
        call(decorator(page), loner)


def test_owner_and_administrator_are_managers(salon_a):
    view = manager_required(page)
    business = salon_a.business.pk
    assert call(view, salon_a.owner).content.decode() == f"ok {business} None"
    assert call(view, salon_a.admin).content.decode() == f"ok {business} None"


def test_a_specialist_is_not_a_manager(salon_a):
    with pytest.raises(PermissionDenied):
        call(manager_required(page), salon_a.specialist_user)


def test_a_specialist_sees_business_pages_as_themself(salon_a):
    response = call(business_required(page), salon_a.specialist_user)
    assert response.content.decode() == f"ok {salon_a.business.pk} {salon_a.specialists[0].pk}"


def test_a_specialist_without_a_profile_sees_nothing(salon_a):
    Specialist.objects.filter(membership__user=salon_a.specialist_user).update(membership=None)
    response = call(business_required(page), salon_a.specialist_user)
    assert response.content.decode() == f"ok {salon_a.business.pk} -1"


def test_decorators_keep_the_views_name():
    assert manager_required(page).__name__ == "page"
    assert business_required(page).__name__ == "page"


def test_membership_manages():
    assert Membership(role=Role.OWNER).manages is True
    assert Membership(role=Role.ADMINISTRATOR).manages is True
    assert Membership(role=Role.SPECIALIST).manages is False


# The same rules on real pages.


def test_manager_page_refuses_a_specialist(client, salon_a):
    client.force_login(salon_a.specialist_user)
    response = client.get("/finance/transactions/")
    assert response.status_code == 403
    assert "Your role does not give access to this page." in response.content.decode()


def test_manager_page_opens_for_the_owner(client, salon_a):
    client.force_login(salon_a.owner)
    assert client.get("/finance/transactions/").status_code == 200


def test_manager_page_sends_anonymous_users_to_log_in(client):
    response = client.get("/finance/transactions/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/finance/transactions/"


def test_a_user_without_a_business_gets_403(client):
    loner = UserFactory(email="loner@example.uz", password="x-long-password-1")
    client.force_login(loner)
    assert client.get("/journal/").status_code == 403
    assert client.get("/finance/transactions/").status_code == 403


def test_the_journal_opens_for_a_specialist(client, salon_a):
    client.force_login(salon_a.specialist_user)
    assert client.get("/journal/").status_code == 200
