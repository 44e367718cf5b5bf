"""Users log in by e-mail; passwords are hashed with argon2."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from navbat.accounts.models import Membership, Role, User
from navbat.accounts.services import add_member, set_language
from tests.seed import only

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2(person):
    stored = User.objects.get(pk=person.pk).password
    assert stored.startswith("argon2")
    assert PASSWORD not in stored
    assert person.check_password(PASSWORD) is True
    assert person.check_password("wrong") is False


def test_an_old_pbkdf2_hash_is_upgraded_on_login(client):
    user = User.objects.create_user(email="legacy@example.uz")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    assert authenticate(username="legacy@example.uz", password=PASSWORD) is not None
    assert User.objects.get(pk=user.pk).password.startswith("argon2")


def test_create_user_by_email():
    user = User.objects.create_user(email="New.Person@Example.UZ", password=PASSWORD)
    assert user.email == "new.person@example.uz"
    assert user.is_staff is False
    assert user.is_superuser is False
    assert user.preferred_language == "uz"
    assert str(user) == "new.person@example.uz"
    user.full_name = "Nodira Saidova"
    assert str(user) == "Nodira Saidova"
    assert User.USERNAME_FIELD == "email"
    assert not hasattr(user, "username") or user.username is None


def test_create_user_needs_an_email():
    with pytest.raises(ValueError, match="e-mail address is required"):
        User.objects.create_user(email="", password=PASSWORD)
    assert only(User).count() == 0


def test_emails_are_unique_whatever_the_case(person):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="PERSON@example.uz", password=PASSWORD)
    assert only(User).count() == 1


def test_create_superuser():
    admin = User.objects.create_superuser(email="root@example.uz", password=PASSWORD)
    assert admin.is_staff is True
    assert admin.is_superuser is True


def test_a_user_has_one_role_per_business(salon_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        add_member(business=salon_a.business, user=salon_a.owner, role=Role.SPECIALIST)
    assert Membership.objects.get(user=salon_a.owner).role == Role.OWNER


def test_set_language(person):
    set_language(user=person, language="ru")
    assert User.objects.get(pk=person.pk).preferred_language == "ru"
    set_language(user=person, language="xx")
    assert User.objects.get(pk=person.pk).preferred_language == "ru"


def test_the_admin_can_add_a_user_by_email(client):
    root = User.objects.create_superuser(email="root@example.uz", password=PASSWORD)
    client.force_login(root)
    assert client.get("/admin/accounts/user/add/").status_code == 200
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "staff@example.uz",
            "password1": "another-horse-battery-7",
            "password2": "another-horse-battery-7",
            "usable_password": "true",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(email="staff@example.uz")
    assert created.password.startswith("argon2")
    assert client.get(f"/admin/accounts/user/{created.pk}/change/").status_code == 200
    assert client.get("/admin/accounts/user/?q=staff").status_code == 200
