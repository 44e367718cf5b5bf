"""Secrets at rest: Fernet encryption with a key ring (newest key first) for rotation."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "fernet:"


@cache
def _ring(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def key_ring() -> MultiFernet:
    return _ring(tuple(settings.NAVBAT_ENCRYPTION_KEYS))


def encrypt(plain: str) -> str:
    return PREFIX + key_ring().encrypt(plain.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ValueError("value is not encrypted")
    try:
        return key_ring().decrypt(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as exc:
        raise ValueError("no key in NAVBAT_ENCRYPTION_KEYS opens this value") from exc


def rotate(stored: str) -> str:
    """Re-encrypt with the newest key (after a new key was put first in the ring)."""
    if not stored.startswith(PREFIX):
        raise ValueError("value is not encrypted")
    try:
        return PREFIX + key_ring().rotate(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as exc:
        raise ValueError("no key in NAVBAT_ENCRYPTION_KEYS opens this value") from exc


class EncryptedTextField(models.TextField):
    """Stored encrypted; Python code only ever sees the clear text."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
