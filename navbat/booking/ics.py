"""An appointment as an iCalendar file (RFC 5545) for the client's "Add to calendar".

One VEVENT with times in UTC (``…Z``: no time zone definitions needed), a UID stable for
the appointment (a calendar that imports the file again updates the event instead of adding
a second one), text escaped (§3.3.11) and lines folded at 75 octets (§3.1), CRLF endings.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

FOLD_AT = 75  # octets per line, the line break excluded


@dataclass(frozen=True)
class Event:
    uid: str
    starts_at: datetime
    ends_at: datetime
    stamp: datetime
    summary: str
    location: str = ""
    description: str = ""
    status: str = "CONFIRMED"  # TENTATIVE, CONFIRMED or CANCELLED
    last_modified: datetime | None = None


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, line breaks as ``\\n``."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\n", "\\n")


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Split a content line into lines of at most 75 octets, each continuation starting
    with one space; a UTF-8 character is never cut."""
    parts, current, size = [], [], 0
    for character in line:
        width = len(character.encode("utf-8"))
        # A continuation line begins with a space, which counts toward its 75 octets.
        limit = FOLD_AT if not parts else FOLD_AT - 1
        if size + width > limit:
            parts.append("".join(current))
            current, size = [], 0
        current.append(character)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def calendar(event: Event, *, product: str = "-//navbat//online booking//EN") -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{product}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{utc(event.stamp)}",
        f"DTSTART:{utc(event.starts_at)}",
        f"DTEND:{utc(event.ends_at)}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.last_modified:
        lines.append(f"LAST-MODIFIED:{utc(event.last_modified)}")
    lines += [f"STATUS:{event.status}", "END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")
