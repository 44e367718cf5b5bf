"""What the public booking pages share (F6): the client's language, the limits, rendering in
the location's time zone, framing, and a few words the pages show.

Used by the widget (``widget_views``) and the client's booking page (``manage_views``).
"""

import calendar
from datetime import date, timedelta
from functools import wraps

from csp.decorators import csp_replace
from django.conf import settings
from django.db import transaction
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_exempt

from navbat.kit.phones import PhoneError, normalise_phone
from navbat.kit.timeutil import zone

from . import availability, limits
from .models import RefundPolicy

WIDGET = "booking/widget/"


def language_codes() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def use_language(request, *, asked: str = "", fallback: str = "") -> str:
    """Activate the client's language and return it: the one asked in the address
    (``?lang=``, the switcher) first, then the language cookie, then ``fallback`` (the
    language a booking was made in), then the browser's (what LocaleMiddleware chose)."""
    codes = language_codes()
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    for candidate in (asked, cookie, fallback):
        if candidate in codes:
            translation.activate(candidate)
            request.LANGUAGE_CODE = candidate
            return candidate
    return (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]


def remember_language(response, language: str):
    """The switcher's choice sticks: a cookie, as the other pages' switcher sets it (a
    browser showing the widget in a frame may drop it; the address carries ``lang`` then)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        secure=settings.LANGUAGE_COOKIE_SECURE or settings.SESSION_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
    )
    return response


def is_htmx(request) -> bool:
    """An htmx swap of the page's content (not the browser's history asking a whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_public(request, template: str, context: dict, *, status: int = 200, time_zone=None):
    """Times on the page are the location's wall clock, whoever opens it from wherever."""
    with timezone.override(zone(time_zone)):
        response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def frameable(view):
    """A page any site may show in a frame: the widget embedded on a salon's own site (the
    iframe snippet, the floating button). Nothing on it acts on a cookie; the client's
    booking page and the payment page stay unframeable."""
    return xframe_options_exempt(csp_replace({"frame-ancestors": ["*"]})(view))


def too_many(request, refused: limits.TooMany, *, embed: bool = False):
    response = render(
        request,
        WIDGET + "too_many.html",
        {"embed": embed, "retry_after": refused.retry_after},
        status=429,
    )
    response["Retry-After"] = str(refused.retry_after)
    return response


def over_limit(request, *, budget: limits.Budget, what: str, phone: str = "", embed=False):
    """A 429 page when this request is past a limit, else None (the request is counted)."""
    try:
        limits.check(request, budget=budget, what=what, phone=phone)
    except limits.TooMany as refused:
        return too_many(request, refused, embed=embed)
    return None


def typed_phone(raw: str) -> str:
    """The phone a client typed, in E.164; "" when it is not one."""
    try:
        return normalise_phone((raw or "")[:32])
    except PhoneError:
        return ""


def counted(what):
    """Count each request against ``booking.limits`` (a read: ``READ``; a post: ``WRITE``,
    per address and per the phone it carries) in a statement of its own, then run a post
    in one transaction, as ``ATOMIC_REQUESTS`` would (a look runs in none).

    The counter of a shared address (a carrier's NAT) is one row every client behind it
    updates; counted inside the request's transaction, its lock would last each whole
    request and line those clients up behind one another. ``what`` names the counter, or
    is a function of the request that does. No view so marked calls a bank."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            params = request.POST if request.method == "POST" else request.GET
            use_language(request, asked=params.get("lang") or request.GET.get("lang") or "")
            name = what(request) if callable(what) else what
            if request.method == "POST":
                budget, phone = limits.WRITE, typed_phone(request.POST.get("phone"))
            else:
                budget, phone = limits.READ, ""
            refused = over_limit(
                request, budget=budget, what=name, phone=phone, embed=params.get("embed") == "1"
            )
            if refused is not None:
                return refused
            if request.method in ("GET", "HEAD"):
                # A look writes nothing and needs no transaction: on SQLite one would take
                # the database's write lock (IMMEDIATE) for every anonymous page view.
                return view(request, *args, **kwargs)
            with transaction.atomic():
                return view(request, *args, **kwargs)

        return transaction.non_atomic_requests(wrapped)

    return decorator


def duration_text(minutes: int) -> str:
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}
    if hours:
        return _("%(hours)s h") % {"hours": hours}
    return _("%(minutes)s min") % {"minutes": rest}


def minutes_text(minutes: int) -> str:
    return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}


def refund_policy_text(settings_row) -> str:
    """The salon's refund policy for a client who cancels, in a sentence."""
    if settings_row.refund_policy == RefundPolicy.ALWAYS:
        return _("If you cancel, the prepayment is given back.")
    if settings_row.refund_policy == RefundPolicy.NEVER:
        return _("If you cancel, the prepayment is not given back.")
    hours = settings_row.refund_before_hours
    return ngettext(
        "If you cancel at least %(count)s hour before the visit, the prepayment is given back.",
        "If you cancel at least %(count)s hours before the visit, the prepayment is given back.",
        hours,
    ) % {"count": hours}


def change_rule_text(settings_row) -> str:
    hours = settings_row.change_cutoff_hours
    if hours == 0:
        return _("You can cancel or move the booking online until the visit starts.")
    return ngettext(
        "You can cancel or move the booking online up to %(count)s hour before the visit.",
        "You can cancel or move the booking online up to %(count)s hours before the visit.",
        hours,
    ) % {"count": hours}


def initials(name: str) -> str:
    words = [word for word in (name or "").split() if word[:1].isalpha()]
    return "".join(word[0] for word in words[:2]).upper() or "?"


# ------------------------------------------------------------------------------ calendar


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def month_grid(*, month: date, free: set[date], url_of) -> list[list[dict]]:
    """The month's weeks, Monday first; a free day carries the address that picks it."""
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        weeks.append(
            [
                {
                    "day": day,
                    "in_month": day.month == month.month,
                    "free": day in free and day.month == month.month,
                    "url": url_of(day) if day in free and day.month == month.month else "",
                }
                for day in week
            ]
        )
    return weeks


def weekday_names() -> list[date]:
    """A Monday-to-Sunday week, for the calendar's heading (named by the template)."""
    monday = date(2024, 1, 1)
    return [monday + timedelta(days=offset) for offset in range(7)]


def calendar_context(*, chosen, month: date | None, today: date, url_of, month_url_of) -> dict:
    """What a month calendar of free days shows: the days with free time in ``month`` (by
    default this month, or the next one where this one has none left), and the months one
    may go to (not before this month, not past the horizon)."""
    last_day = today + timedelta(days=chosen.rules.horizon_days)
    explicit = month is not None
    month = month or month_start(today)
    month = min(max(month, month_start(today)), month_start(last_day))

    def free_in(first: date) -> list[date]:
        last = next_month(first) - timedelta(days=1)
        return availability.free_days(
            location=chosen.location,
            rules=chosen.rules,
            specialists=chosen.specialists,
            duration=chosen.duration,
            first=first,
            last=last,
        )

    free = free_in(month)
    if not free and not explicit and next_month(month) <= last_day:
        month = next_month(month)
        free = free_in(month)
    previous = previous_month(month) if month > month_start(today) else None
    following = next_month(month) if next_month(month) <= last_day else None
    return {
        "month": month,
        "weeks": month_grid(month=month, free=set(free), url_of=url_of),
        "weekdays": weekday_names(),
        "free_count": len(free),
        "previous_url": month_url_of(previous) if previous else "",
        "next_url": month_url_of(following) if following else "",
    }
