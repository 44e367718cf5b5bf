"""Callbacks the sandbox bank owes merchants: stored, then delivered by a background job."""

from .models import Callback, Terminal


def enqueue(*, terminal: Terminal, kind: str, url: str, body: dict) -> Callback:
    """Store a callback for delivery after the current transaction commits."""
    return Callback.objects.create(terminal=terminal, kind=kind, url=url, body=body)
