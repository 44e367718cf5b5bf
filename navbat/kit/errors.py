"""Errors that services raise and views translate for people (forms) and machines (API)."""

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """The request is well formed but clashes with the current state (e.g. a taken slot)."""

    code_name = "conflict"
