"""Errors that services raise and views translate for people (forms) and machines (API)."""

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """The request is well formed but clashes with the current state (e.g. a taken slot)."""

    code_name = "conflict"


class Refused(ValidationError):
    """A state machine refused a move (see :mod:`navbat.kit.states`). ``reason`` is a stable
    code for machines and tests; the message is for the person who asked, under ``field``
    when a form or the API should show it beside one. A ValidationError, so forms and the
    API answer it as they answer any invalid request, and nothing was changed."""

    def __init__(self, message, *, reason: str, field: str = "", current="", to=""):
        error = ValidationError(message, code=reason)
        super().__init__({field: [error]} if field else error)
        self.reason = reason
        self.field = field
        self.current = current
        self.to = to

    def __reduce__(self):
        # Keyword-only arguments: the default (class, args) would not rebuild it, and a
        # job's failure or a worker's answer may carry it across processes.
        message = " ".join(self.messages)
        fields = (self.reason, self.field, self.current, self.to)
        return (_refused, (type(self), message, *fields))


def _refused(cls, message, reason, field, current, to) -> Refused:
    return cls(message, reason=reason, field=field, current=current, to=to)
