"""Parsing JSON that strangers send: bounded in size and depth, never a RecursionError."""

import json

MAX_DEPTH = 32


class BadJSON(ValueError):
    """The body is not acceptable JSON (malformed, too large or nested too deeply)."""


def _depth_exceeds(raw: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` (a linear scan)."""
    depth = 0
    in_string = False
    escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def loads_bounded(raw: bytes | str, *, max_bytes: int, max_depth: int = MAX_DEPTH):
    """The parsed value, or ``BadJSON`` for a body over ``max_bytes``, nested deeper than
    ``max_depth``, not UTF-8, or not JSON."""
    if len(raw) > max_bytes:
        raise BadJSON("body too large")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise BadJSON("not UTF-8") from None
    if _depth_exceeds(text, max_depth):
        raise BadJSON("nested too deeply")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise BadJSON("not JSON") from None
