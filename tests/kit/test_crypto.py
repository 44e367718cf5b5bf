"""Secrets at rest: Fernet with a key ring, newest key first, for rotation."""

from io import StringIO
from unittest import mock

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test import override_settings
from django.test.utils import isolate_apps

from navbat.kit import crypto
from navbat.kit.crypto import PREFIX, EncryptedTextField, decrypt, encrypt, rotate

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
OTHER = Fernet.generate_key().decode()
SECRET = "uzum-api-key: s3cr3t-ключ"


@pytest.fixture(autouse=True)
def fresh_ring():
    crypto._ring.cache_clear()
    yield
    crypto._ring.cache_clear()


def keys(*ring):
    return override_settings(NAVBAT_ENCRYPTION_KEYS=list(ring))


def test_encrypt_hides_the_clear_text_and_decrypts_back():
    with keys(OLD):
        stored = encrypt(SECRET)
        assert stored.startswith(PREFIX)
        assert SECRET not in stored
        assert "s3cr3t" not in stored
        assert decrypt(stored) == SECRET


def test_each_encryption_is_different():
    with keys(OLD):
        assert encrypt(SECRET) != encrypt(SECRET)


def test_empty_text_round_trips():
    with keys(OLD):
        assert decrypt(encrypt("")) == ""


def test_a_value_without_the_prefix_is_refused():
    with keys(OLD):
        token = encrypt(SECRET).removeprefix(PREFIX)
        with pytest.raises(ValueError, match="not encrypted"):
            decrypt(token)
        with pytest.raises(ValueError, match="not encrypted"):
            decrypt(SECRET)
        with pytest.raises(ValueError, match="not encrypted"):
            rotate(SECRET)


def test_a_tampered_value_is_refused():
    with keys(OLD):
        stored = encrypt(SECRET)
        tampered = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
        with pytest.raises(ValueError, match="no key"):
            decrypt(tampered)
        with pytest.raises(ValueError, match="no key"):
            decrypt(PREFIX + "garbage")


def test_a_value_from_an_unknown_key_is_refused():
    with keys(OTHER):
        stored = encrypt(SECRET)
    with keys(OLD), pytest.raises(ValueError, match="no key in NAVBAT_ENCRYPTION_KEYS"):
        decrypt(stored)
    with keys(OLD), pytest.raises(ValueError, match="no key in NAVBAT_ENCRYPTION_KEYS"):
        rotate(stored)


def test_key_rotation():
    with keys(OLD):
        stored_old = encrypt(SECRET)
    crypto._ring.cache_clear()
    with keys(NEW, OLD):
        # The old value still opens after the new key is put first.
        assert decrypt(stored_old) == SECRET
        rotated = rotate(stored_old)
        assert rotated.startswith(PREFIX)
        assert rotated != stored_old
        assert decrypt(rotated) == SECRET
        # New values are encrypted with the new key.
        stored_new = encrypt(SECRET)
    crypto._ring.cache_clear()
    with keys(NEW):
        # Once everything is rotated the old key can go.
        assert decrypt(rotated) == SECRET
        assert decrypt(stored_new) == SECRET
        with pytest.raises(ValueError):
            decrypt(stored_old)
    crypto._ring.cache_clear()
    with keys(OLD):
        with pytest.raises(ValueError):
            decrypt(rotated)
        with pytest.raises(ValueError):
            decrypt(stored_new)


def test_the_ring_follows_the_settings():
    with keys(OLD):
        first = crypto.key_ring()
        assert crypto.key_ring() is first  # cached
    with keys(NEW):
        assert crypto.key_ring() is not first


def test_field_encrypts_on_the_way_in_and_decrypts_on_the_way_out():
    field = EncryptedTextField()
    with keys(OLD):
        prepared = field.get_prep_value(SECRET)
        assert prepared.startswith(PREFIX)
        assert SECRET not in prepared
        assert field.from_db_value(prepared, None, connection) == SECRET
        assert field.get_db_prep_save(SECRET, connection).startswith(PREFIX)


@pytest.mark.parametrize("empty", [None, ""])
def test_field_keeps_empty_values_empty(empty):
    field = EncryptedTextField()
    with keys(OLD):
        assert field.get_prep_value(empty) == empty
        assert field.from_db_value(empty, None, connection) == empty


def test_field_prepares_non_strings_as_text():
    field = EncryptedTextField()
    with keys(OLD):
        assert field.from_db_value(field.get_prep_value(12345), None, connection) == "12345"


def test_field_value_read_after_rotation():
    field = EncryptedTextField()
    with keys(OLD):
        stored = field.get_prep_value(SECRET)
    crypto._ring.cache_clear()
    with keys(NEW, OLD):
        assert field.from_db_value(stored, None, connection) == SECRET


@pytest.mark.django_db
def test_the_database_column_never_holds_the_clear_text():
    field = EncryptedTextField()
    with keys(OLD), connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE nb_crypto_probe (id integer PRIMARY KEY, v text)")
        try:
            cursor.execute(
                "INSERT INTO nb_crypto_probe (id, v) VALUES (1, %s)",
                [field.get_db_prep_save(SECRET, connection)],
            )
            cursor.execute("SELECT v FROM nb_crypto_probe WHERE id = 1")
            (raw,) = cursor.fetchone()
            assert raw.startswith(PREFIX)
            assert SECRET not in raw
            assert "s3cr3t" not in raw
            assert field.from_db_value(raw, None, connection) == SECRET
        finally:
            cursor.execute("DROP TABLE nb_crypto_probe")


# A real model with an EncryptedTextField, on a temporary table, outside the app registry.

PROBE_TABLE = "nb_crypto_model_probe"


@pytest.fixture
def probe_model(db):
    with isolate_apps("navbat.kit"):

        class Probe(models.Model):
            secret = EncryptedTextField(blank=True, null=True)

            class Meta:
                app_label = "kit"
                db_table = PROBE_TABLE

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {PROBE_TABLE} (id integer PRIMARY KEY, secret text NULL)"
        )
    yield Probe
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {PROBE_TABLE}")


def raw_column(row_id):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {PROBE_TABLE} WHERE id = %s", [row_id])  # noqa: S608
        return cursor.fetchone()[0]


def test_a_saved_model_never_writes_the_clear_text(probe_model):
    with keys(OLD):
        probe_model.objects.create(id=1, secret=SECRET)
        probe_model.objects.create(id=2, secret="")
        probe_model.objects.create(id=3, secret=None)
        raw = raw_column(1)
        assert raw.startswith(PREFIX)
        assert SECRET not in raw and "s3cr3t" not in raw
        assert raw_column(2) == ""
        assert raw_column(3) is None
        assert probe_model.objects.get(id=1).secret == SECRET
        assert probe_model.objects.get(id=2).secret == ""
        assert probe_model.objects.get(id=3).secret is None
        probe_model.objects.filter(id=2).update(secret="updated-secret")
        assert "updated-secret" not in raw_column(2)
        assert probe_model.objects.get(id=2).secret == "updated-secret"


def test_rotation_command_re_encrypts_with_the_new_key(probe_model):
    with keys(OLD):
        probe_model.objects.create(id=1, secret=SECRET)
        probe_model.objects.create(id=2, secret="second")
        probe_model.objects.create(id=3, secret="")
    before = raw_column(1)
    crypto._ring.cache_clear()
    out = StringIO()
    with (
        keys(NEW, OLD),
        mock.patch(
            "navbat.kit.management.commands.rotate_encryption_keys.apps.get_models",
            return_value=[probe_model],
        ),
    ):
        call_command("rotate_encryption_keys", stdout=out)
    assert out.getvalue().strip() == "re-encrypted 2 value(s)"
    assert raw_column(1) != before
    assert raw_column(3) == ""
    crypto._ring.cache_clear()
    with keys(NEW):  # the old key can go now
        assert probe_model.objects.get(id=1).secret == SECRET
        assert probe_model.objects.get(id=2).secret == "second"


def test_rotation_command_stops_on_a_value_no_key_opens(probe_model):
    with keys(OTHER):
        probe_model.objects.create(id=1, secret=SECRET)
    before = raw_column(1)
    crypto._ring.cache_clear()
    with (
        keys(NEW, OLD),
        mock.patch(
            "navbat.kit.management.commands.rotate_encryption_keys.apps.get_models",
            return_value=[probe_model],
        ),
        pytest.raises(CommandError, match="kit.Probe.secret id=1: no key") as caught,
    ):
        call_command("rotate_encryption_keys")
    assert SECRET not in str(caught.value)
    assert raw_column(1) == before


@pytest.mark.django_db
def test_rotation_command_without_encrypted_fields():
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert out.getvalue().strip().startswith("re-encrypted ")
