"""The calendar file of a booking (RFC 5545): escaping, folding, UTC times."""

from datetime import UTC, datetime, timedelta, timezone

from navbat.booking import ics


def test_text_is_escaped():
    assert ics.escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_long_lines_are_folded_at_75_octets_without_cutting_a_character():
    line = "SUMMARY:" + "Оксана " * 30
    folded = ics.fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join([parts[0], *[part[1:] for part in parts[1:]]]) == line
    assert ics.fold("SHORT:x") == "SHORT:x"


def test_a_calendar_with_utc_times():
    tashkent = timezone(timedelta(hours=5))
    event = ics.Event(
        uid="appointment-7@navbat.example.uz",
        starts_at=datetime(2026, 12, 5, 15, 0, tzinfo=tashkent),
        ends_at=datetime(2026, 12, 5, 16, 30, tzinfo=tashkent),
        stamp=datetime(2026, 12, 1, 8, 0, 5, tzinfo=UTC),
        summary="Salon; A, B",
        location="Tashkent",
        status="TENTATIVE",
    )
    assert ics.calendar(event).decode().split("\r\n") == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//navbat//online booking//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        "UID:appointment-7@navbat.example.uz",
        "DTSTAMP:20261201T080005Z",
        "DTSTART:20261205T100000Z",
        "DTEND:20261205T113000Z",
        "SUMMARY:Salon\\; A\\, B",
        "LOCATION:Tashkent",
        "STATUS:TENTATIVE",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
