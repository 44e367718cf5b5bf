"""Argon2 with the cheapest parameters, for tests only: the suite makes a few thousand users,
and production's parameters (rightly slow) cost about 0.3 s each. The hashes are still
argon2, checked by the same code."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64  # KiB
    parallelism = 1
