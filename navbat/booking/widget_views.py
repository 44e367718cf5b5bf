"""The salon's public booking widget (F6): ``/book/<slug>/``, phone first, in the client's
language.

Steps, each an address (``widget_forms.Pick``): services → specialist → day → time →
details → book. Links carry htmx attributes: htmx swaps the page's ``#widget`` and pushes the
address, so the back button works; without scripts they are plain links. Only the last
step posts.

Public: no login, no session. The location's public slug is the authority; an unknown slug
and a widget turned off are the same 404. Every request counts against the limits of
``booking.limits`` (reads: ``READ``; booking and phone codes: ``WRITE``, per address and per
phone); past them a 429 page says when to come back.

The widget can be shown in a frame on the salon's own site, where browsers send it no
cookie (third-party frames). It therefore reads no cookie but the language and its posts
are exempt from Django's CSRF check, which needs one: they act on nothing a cookie grants
(the slug is public, a phone code is proven by the nonce the form carries), so a forged
post can do nothing the forger could not do themselves. The booking's own page
(``manage_views``) is never framed and keeps the CSRF check.
"""

import calendar
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseNotModified, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from navbat.kit.errors import Conflict, Refused
from navbat.kit.phones import PhoneError, normalise_phone
from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import local_datetime, local_today, to_local
from navbat.salons.models import Location, Prepayment, Service, Specialist

from . import availability, limits, online, phone_checks
from .prepayment import service_amount
from .public_pages import (
    WIDGET,
    change_rule_text,
    duration_text,
    frameable,
    initials,
    is_htmx,
    over_limit,
    refund_policy_text,
    remember_language,
    render_public,
    use_language,
)
from .widget_forms import ANY, DetailsForm, Pick, read_pick

STEPS = ("services", "specialist", "day", "time", "details")
PHOTO_MAX_AGE = 24 * 3600


# ------------------------------------------------------------------------------ the frame


def _url(name: str, slug: str, pick: Pick, **changes) -> str:
    return reverse(f"booking_public:{name}", kwargs={"slug": slug}) + pick.query(**changes)


def not_found(request, *, embed: bool = False):
    return render_public(request, WIDGET + "not_found.html", {"embed": embed}, status=404)


def _open(request, slug: str, params) -> tuple[Location | None, Pick, HttpResponse | None]:
    """The pick, the client's language, the limit, the location: or the page saying why
    not."""
    pick = read_pick(params)
    use_language(request, asked=pick.lang)
    refused = over_limit(request, budget=limits.READ, what="widget", embed=pick.embed)
    if refused is not None:
        return None, pick, refused
    location = online.open_location(slug)
    if location is None:
        return None, pick, not_found(request, embed=pick.embed)
    return location, pick, None


def _progress(slug: str, pick: Pick, current: str) -> list[dict]:
    labels = {
        "services": _("Services"),
        "specialist": _("Specialist"),
        "day": _("Day"),
        "time": _("Time"),
        "details": _("Details"),
    }
    reached = {
        "services": True,
        "specialist": bool(pick.service_ids),
        "day": bool(pick.service_ids and pick.specialist),
        "time": bool(pick.service_ids and pick.specialist and pick.day),
        "details": bool(pick.service_ids and pick.specialist and pick.day and pick.at),
    }
    keep = {
        "services": {"specialist": "", "day": None, "at": None, "month": None},
        "specialist": {"day": None, "at": None, "month": None},
        "day": {"day": None, "at": None},
        "time": {"at": None},
        "details": {},
    }
    index = STEPS.index(current)
    return [
        {
            "name": name,
            "number": number,
            "label": labels[name],
            "current": name == current,
            "done": number - 1 < index,
            "url": (
                _url("widget" if name == "services" else name, slug, pick, **keep[name])
                if reached[name] and name != current
                else ""
            ),
        }
        for number, name in enumerate(STEPS, start=1)
    ]


def _languages(request, pick: Pick) -> list[dict]:
    current = (request.LANGUAGE_CODE or "").split("-")[0]
    return [
        {
            "code": code,
            "name": name,
            "current": code == current,
            "url": request.path + pick.query(lang=code),
        }
        for code, name in settings.LANGUAGES
    ]


def _page(request, location: Location, pick: Pick, step: str, context: dict, *, status=200):
    slug = location.public_slug
    context = {
        "location": location,
        "business": location.business,
        "pick": pick,
        "slug": slug,
        "embed": pick.embed,
        "step": step,
        "step_template": f"{WIDGET}_{step}.html",
        "progress": _progress(slug, pick, step),
        "languages": _languages(request, pick),
        **context,
    }
    errors = context.get("errors") or {}
    context["step_error"] = errors.get("services") or errors.get("specialist") or ""
    context["day_error"] = errors.get("month") or errors.get("day") or ""
    template = context["step_template"] if is_htmx(request) else WIDGET + "page.html"
    response = render_public(request, template, context, status=status, time_zone=location.timezone)
    if pick.lang and request.method == "GET" and not pick.embed:
        remember_language(response, pick.lang)
    return response


# ---------------------------------------------------------------------------- what is sold


def _price_range(services) -> tuple[int, int]:
    low = sum(service.price for service in services)
    high = sum(max(service.price_max or 0, service.price) for service in services)
    return low, high


def _offered_services(location: Location) -> list[Service]:
    """The location's services a client may book online: active, open to online booking,
    and performed by one of its specialists who takes online bookings."""
    performed = scoped(Specialist, location.business).filter(
        location=location, is_active=True, bookable_online=True
    )
    return list(
        scoped(Service, location.business)
        .filter(is_active=True, bookable_online=True, pk__in=performed.values("services"))
        .select_related("category")
        .order_by("category__position", "category__name", "name", "id")
    )


def _service_row(service: Service, *, takes_payments: bool) -> dict:
    asked = ""
    if takes_payments and service.prepayment == Prepayment.REQUIRED:
        asked = "required"
    elif takes_payments and service.prepayment == Prepayment.OPTIONAL:
        asked = "optional"
    return {
        "service": service,
        "duration": duration_text(service.duration_minutes),
        "has_range": bool(service.price_max and service.price_max > service.price),
        "prepayment": asked,
        "prepayment_amount": service_amount(service) if asked else 0,
    }


def _summary(location, pick: Pick, services: list[Service], specialist=None) -> dict:
    low, high = _price_range(services)
    minutes = availability.duration_of(services)
    start = local_datetime(pick.day, pick.at, location.timezone) if pick.day and pick.at else None
    return {
        "services": services,
        "price_low": low,
        "price_high": high,
        "duration": duration_text(minutes) if services else "",
        "specialist": specialist,
        "any_specialist": pick.specialist == ANY,
        "day": pick.day,
        "start": start,
        "end": start + timedelta(minutes=minutes) if start else None,
    }


@frameable
@require_safe
def widget_view(request, slug: str):
    """Step 1: the services, by category; several, in the order the client adds them."""
    location, pick, refused = _open(request, slug, request.GET)
    if refused is not None:
        return refused
    offered = _offered_services(location)
    by_id = {service.pk: service for service in offered}
    chosen = [by_id[pk] for pk in pick.service_ids if pk in by_id]
    errors = dict(pick.errors)
    if len(chosen) != len(pick.service_ids):
        errors["services"] = _("One of the services cannot be booked online.")
    chosen_ids = tuple(service.pk for service in chosen)
    pick = pick.but(service_ids=chosen_ids, lang=pick.lang, embed=pick.embed)
    takes_payments = online.takes_online_payments(location.business)
    full = len(chosen_ids) >= availability.MAX_SERVICES
    categories: list[dict] = []
    for service in offered:
        row = _service_row(service, takes_payments=takes_payments)
        position = chosen_ids.index(service.pk) + 1 if service.pk in chosen_ids else 0
        row["position"] = position
        row["add_url"] = (
            ""
            if position or full
            else _url("widget", slug, pick, service_ids=(*chosen_ids, service.pk))
        )
        row["remove_url"] = (
            _url(
                "widget", slug, pick, service_ids=tuple(pk for pk in chosen_ids if pk != service.pk)
            )
            if position
            else ""
        )
        category = service.category
        if not categories or categories[-1]["category"] != category:
            categories.append({"category": category, "rows": []})
        categories[-1]["rows"].append(row)
    context = {
        "categories": categories,
        "summary": _summary(location, pick, chosen),
        "full": full,
        "errors": errors,
        "next_url": _url("specialist", slug, pick) if chosen else "",
    }
    return _page(request, location, pick, "services", context, status=400 if errors else 200)


def _chosen(location, pick: Pick, *, specialist_id=None):
    """``online.choice`` for the pick, or the ValidationError's messages by field."""
    try:
        return online.choice(
            location=location, service_ids=list(pick.service_ids), specialist_id=specialist_id
        ), {}
    except ValidationError as error:
        found = getattr(error, "error_dict", None) or {"services": error.error_list}
        return None, {name: " ".join(e.messages[0] for e in errs) for name, errs in found.items()}


@frameable
@require_safe
def specialist_view(request, slug: str):
    """Step 2: any specialist, or one of those who perform every chosen service."""
    location, pick, refused = _open(request, slug, request.GET)
    if refused is not None:
        return refused
    if not pick.service_ids:
        return HttpResponseRedirect(_url("widget", slug, pick))
    chosen, errors = _chosen(location, pick)
    errors = {**pick.errors, **errors}
    rows = []
    if chosen is not None:
        for specialist in chosen.specialists:
            rows.append(
                {
                    "specialist": specialist,
                    "initials": initials(specialist.name),
                    "photo_url": photo_url(location, specialist),
                    "url": _url("day", slug, pick, specialist=str(specialist.pk)),
                    "current": pick.specialist == str(specialist.pk),
                }
            )
    context = {
        "rows": rows,
        "any_url": _url("day", slug, pick, specialist=ANY) if rows else "",
        "summary": _summary(location, pick, chosen.services if chosen else []),
        "errors": errors,
    }
    return _page(request, location, pick, "specialist", context, status=400 if errors else 200)


def photo_url(location: Location, specialist: Specialist) -> str:
    """The specialist's photo on the widget, or "" for none (the page shows initials). The
    photo's time in the address makes a new photo a new address (the old one is cached)."""
    if not specialist.photo_updated_at:
        return ""
    url = reverse(
        "booking_public:photo",
        kwargs={"slug": location.public_slug, "specialist_id": specialist.pk},
    )
    return f"{url}?v={int(specialist.photo_updated_at.timestamp())}"


def _step_choice(request, location, pick: Pick, step: str):
    """The checked choice for the steps after the specialist, or the page to go back to."""
    slug = location.public_slug
    if not pick.service_ids:
        return None, HttpResponseRedirect(_url("widget", slug, pick))
    if not pick.specialist:
        return None, HttpResponseRedirect(_url("specialist", slug, pick))
    chosen, errors = _chosen(location, pick, specialist_id=pick.specialist_id)
    if chosen is None:
        clear = {"specialist": "", "month": None, "day": None, "at": None}
        back = "widget" if "services" in errors else "specialist"
        target = _url(back, slug, pick, **clear)
        return None, _page(
            request,
            location,
            pick,
            step,
            {"errors": errors, "broken": True, "back_url": target, "summary": {}},
            status=400,
        )
    return chosen, None


def _who(chosen, pick: Pick):
    return chosen.specialists[0] if pick.specialist_id and chosen.specialists else None


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def _previous_month(month: date) -> date:
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
    month = month or _month_start(today)
    month = min(max(month, _month_start(today)), _month_start(last_day))

    def free_in(first: date) -> list[date]:
        last = _next_month(first) - timedelta(days=1)
        return availability.free_days(
            location=chosen.location,
            rules=chosen.rules,
            specialists=chosen.specialists,
            duration=chosen.duration,
            first=first,
            last=last,
        )

    free = free_in(month)
    if not free and not explicit and _next_month(month) <= last_day:
        month = _next_month(month)
        free = free_in(month)
    previous = _previous_month(month) if month > _month_start(today) else None
    following = _next_month(month) if _next_month(month) <= last_day else None
    return {
        "month": month,
        "weeks": month_grid(month=month, free=set(free), url_of=url_of),
        "weekdays": weekday_names(),
        "free_count": len(free),
        "previous_url": month_url_of(previous) if previous else "",
        "next_url": month_url_of(following) if following else "",
    }


@frameable
@require_safe
def day_view(request, slug: str):
    """Step 3: a month calendar showing only the days with free time."""
    location, pick, refused = _open(request, slug, request.GET)
    if refused is not None:
        return refused
    chosen, back = _step_choice(request, location, pick, "day")
    if back is not None:
        return back
    cal = calendar_context(
        chosen=chosen,
        month=pick.month,
        today=local_today(location.timezone),
        url_of=lambda day: _url("time", slug, pick, day=day, at=None),
        month_url_of=lambda month: _url("day", slug, pick, month=month, day=None, at=None),
    )
    context = {
        **cal,
        "summary": _summary(
            location, pick.but(day=None, at=None), chosen.services, _who(chosen, pick)
        ),
        "errors": pick.errors,
    }
    return _page(request, location, pick, "day", context, status=400 if pick.errors else 200)


def _times(chosen, day: date):
    return availability.free_times(
        location=chosen.location,
        rules=chosen.rules,
        specialists=chosen.specialists,
        duration=chosen.duration,
        day=day,
    )


@frameable
@require_safe
def time_view(request, slug: str):
    """Step 4: the day's free times."""
    location, pick, refused = _open(request, slug, request.GET)
    if refused is not None:
        return refused
    if not pick.day:
        return HttpResponseRedirect(_url("day", slug, pick, at=None))
    chosen, back = _step_choice(request, location, pick, "time")
    if back is not None:
        return back
    return _time_page(request, location, pick, chosen, errors=pick.errors)


def _time_page(request, location, pick: Pick, chosen, *, errors: dict, status: int | None = None):
    slug = location.public_slug
    slots = _times(chosen, pick.day)
    times = [
        {
            "start": to_local(slot.start, location.timezone),
            "url": _url("details", slug, pick, at=to_local(slot.start, location.timezone).time()),
        }
        for slot in slots
    ]
    context = {
        "times": times,
        "day_url": _url("day", slug, pick, month=_month_start(pick.day), day=None, at=None),
        "summary": _summary(location, pick.but(at=None), chosen.services, _who(chosen, pick)),
        "errors": errors,
    }
    return _page(
        request,
        location,
        pick.but(at=None),
        "time",
        context,
        status=status or (400 if errors else 200),
    )


# -------------------------------------------------------------------------------- details


def _start_of(location, pick: Pick) -> datetime:
    return local_datetime(pick.day, pick.at, location.timezone)


def _offered(chosen, start: datetime) -> list:
    return availability.offered_specialists(
        location=chosen.location,
        rules=chosen.rules,
        specialists=chosen.specialists,
        duration=chosen.duration,
        start=start,
    )


def _messages(error: ValidationError) -> dict[str, str]:
    if hasattr(error, "error_dict"):
        return {
            name: " ".join(message for e in errors for message in e.messages)
            for name, errors in error.error_dict.items()
        }
    return {"general": " ".join(error.messages)}


class _Details:
    """What the details step shows besides its form."""

    def __init__(self, location, pick: Pick, chosen, offered):
        self.location = location
        self.pick = pick
        self.chosen = chosen
        self.settings = chosen.settings
        self.who = offered[0] if offered else None
        self.asked = online.asked_of(chosen=chosen, specialist=self.who) if self.who else None

    def context(self) -> dict:
        settings_row = self.settings
        return {
            "summary": _summary(
                self.location, self.pick, self.chosen.services, _who(self.chosen, self.pick)
            ),
            "asked": self.asked,
            "hold_minutes": settings_row.hold_minutes,
            "refund_policy": refund_policy_text(settings_row),
            "change_rule": change_rule_text(settings_row),
            "terms": settings_row.terms,
            "phone_confirmation": settings_row.phone_confirmation,
            "time_url": _url("time", self.location.public_slug, self.pick, at=None),
        }


def _details_prelude(request, slug, params):
    location, pick, refused = _open(request, slug, params)
    if refused is not None:
        return None, pick, None, None, refused
    if not (pick.day and pick.at):
        target = "time" if pick.day else "day"
        return None, pick, None, None, HttpResponseRedirect(_url(target, slug, pick, at=None))
    chosen, back = _step_choice(request, location, pick, "details")
    if back is not None:
        return None, pick, None, None, back
    offered = _offered(chosen, _start_of(location, pick))
    if not offered:
        taken = {"time": _("This time is no longer free. Choose another time.")}
        return (
            None,
            pick,
            None,
            None,
            _time_page(
                request,
                location,
                pick,
                chosen,
                errors=taken,
                status=409 if request.method == "POST" else 400,
            ),
        )
    return location, pick, chosen, offered, None


@frameable
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def details_view(request, slug: str):
    """Step 5: name, phone, comment, the salon's terms, a phone code where the salon asks
    one; then book. Posts here (``action``: ``code`` asks a phone code, ``confirm`` checks
    it, ``book`` books)."""
    params = request.POST if request.method == "POST" else request.GET
    location, pick, chosen, offered, early = _details_prelude(request, slug, params)
    if early is not None:
        return early
    details = _Details(location, pick, chosen, offered)
    if request.method != "POST":
        form = DetailsForm(initial={})
        return _details_page(request, details, form, {})
    form = DetailsForm(request.POST)
    action = request.POST.get("action", "book")
    if action in ("code", "confirm"):
        return _phone_code(request, details, form, action)
    return _book(request, details, form)


def _details_page(request, details: _Details, form, errors: dict, *, status=200, **extra):
    context = {**details.context(), "form": form, "errors": errors, **extra}
    if details.settings.phone_confirmation:
        nonce = (form.data.get("phone_check") or "")[:64] if form.is_bound else ""
        phone = phone_checks.confirmed_phone(location=details.location, nonce=nonce)
        context.setdefault("phone_check", nonce)
        context.setdefault("confirmed_phone", phone)
    return _page(request, details.location, details.pick, "details", context, status=status)


def _normalised(phone: str) -> str:
    try:
        return normalise_phone(phone or "")
    except PhoneError:
        return ""


def _phone_code(request, details: _Details, form, action: str):
    """Ask a code for the typed phone, or check the typed code (the salon reads the code
    out until navbat sends messages)."""
    raw_phone = (form.data.get("phone") or "")[:32]
    phone = _normalised(raw_phone)
    refused = over_limit(
        request, budget=limits.WRITE, what="code", phone=phone, embed=details.pick.embed
    )
    if refused is not None:
        return refused
    form.is_valid()  # to show the values back; errors are the service's
    if action == "code":
        if not phone:
            try:
                normalise_phone(raw_phone)
            except PhoneError as error:
                return _details_page(request, details, form, {"phone": str(error)}, status=400)
        try:
            check = phone_checks.ask_code(location=details.location, phone=phone)
        except Refused as error:
            return _details_page(request, details, form, _messages(error), status=429)
        return _details_page(
            request, details, form, {}, phone_check=check.nonce, code_sent=True, confirmed_phone=""
        )
    nonce = (form.data.get("phone_check") or "")[:64]
    try:
        check = phone_checks.confirm(nonce=nonce, code=(form.data.get("code") or "")[:12])
    except Refused as error:
        return _details_page(
            request,
            details,
            form,
            _messages(error),
            status=400,
            phone_check=nonce,
            code_sent=bool(nonce),
            confirmed_phone="",
        )
    return _details_page(request, details, form, {}, phone_check=check.nonce)


def _book(request, details: _Details, form):
    pick, location = details.pick, details.location
    raw_phone = (form.data.get("phone") or "")[:32]
    phone = _normalised(raw_phone)
    refused = over_limit(request, budget=limits.WRITE, what="book", phone=phone, embed=pick.embed)
    if refused is not None:
        return refused
    if form.filled_honeypot():
        # A bot: refused without saying why, nothing stored.
        return _details_page(
            request,
            details,
            DetailsForm(),
            {"general": _("The booking could not be made. Please try again.")},
            status=400,
        )
    if not form.is_valid():
        errors = {
            ("general" if name == "__all__" else name): " ".join(messages)
            for name, messages in form.errors.items()
        }
        return _details_page(request, details, form, errors, status=400)
    data = form.cleaned_data
    nonce = data.get("phone_check") or ""
    confirmed = bool(phone) and (
        phone_checks.confirmed_phone(location=location, nonce=nonce) == phone
    )
    try:
        booked = online.book_online(
            location=location,
            service_ids=list(pick.service_ids),
            specialist_id=pick.specialist_id,
            starts_at=_start_of(location, pick),
            name=data["name"],
            phone=data["phone"],
            comment=data["comment"],
            language=(request.LANGUAGE_CODE or "uz").split("-")[0],
            terms_accepted=bool(data["terms"]),
            phone_confirmed=confirmed,
        )
    except Conflict:
        chosen = details.chosen
        taken = {"time": _("This time has just been taken. Choose another time.")}
        return _time_page(request, location, pick, chosen, errors=taken, status=409)
    except Refused as error:
        if error.reason == "closed":
            return not_found(request, embed=pick.embed)
        status = 429 if error.reason == "too_many_holds" else 400
        return _details_page(request, details, form, _messages(error), status=status)
    except ValidationError as error:
        return _details_page(request, details, form, _messages(error), status=400)
    target = reverse("booking_public:manage", kwargs={"token": booked.online.manage_token})
    return _see_other(target + "?new=1")


def _see_other(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


# --------------------------------------------------------------------------------- photo


@frameable
@require_safe
def photo_view(request, slug: str, specialist_id: int):
    """A specialist's photo (a small JPEG kept in the database), cached by the browser: the
    address changes with the photo (``photo_url``), and a repeat asks with its ETag."""
    refused = over_limit(request, budget=limits.READ, what="photo")
    if refused is not None:
        return refused
    location = online.open_location(slug)
    if location is None:
        return HttpResponse(status=404)
    row = (
        scoped(Specialist, location.business)
        .filter(pk=specialist_id, location=location, is_active=True, bookable_online=True)
        .exclude(photo=None)
        .values_list("photo", "photo_updated_at")
        .first()
    )
    if row is None or not row[0]:
        return HttpResponse(status=404)
    photo, updated = bytes(row[0]), row[1] or timezone.now()
    etag = quote_etag(f"{specialist_id}-{int(updated.timestamp())}")
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(photo, content_type="image/jpeg")
    response["ETag"] = etag
    response["Last-Modified"] = http_date(updated.timestamp())
    response["Cache-Control"] = f"public, max-age={PHOTO_MAX_AGE}"
    # Not a person's data: kit.headers.NoStoreMiddleware leaves this cache alone.
    response.navbat_public_cache = True
    return response
