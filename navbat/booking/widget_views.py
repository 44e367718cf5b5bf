"""The salon's public booking widget (F6): ``/book/<slug>/``, phone first, in the client's
language.

Steps, each an address (``widget_forms.Pick``): services → specialist → day → time →
details → book (the last step is ``widget_book``). Links are boosted by htmx, which swaps
the page's ``#widget`` and pushes the address, so the back button works; without scripts
they are plain links. Only the last step posts.

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

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseNotModified, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import local_datetime, local_today, to_local
from navbat.salons.models import Location, Prepayment, Service, Specialist

from . import availability, online
from .prepayment import service_amount
from .public_links import photo_path
from .public_pages import (
    WIDGET,
    calendar_context,
    counted,
    duration_text,
    frameable,
    initials,
    is_htmx,
    month_start,
    remember_language,
    render_public,
    use_language,
)
from .widget_forms import ANY, Pick, read_pick

STEPS = ("services", "specialist", "day", "time", "details")
PHOTO_MAX_AGE = 24 * 3600


# ------------------------------------------------------------------------------ the frame


def step_url(name: str, slug: str, pick: Pick, **changes) -> str:
    return reverse(f"booking_public:{name}", kwargs={"slug": slug}) + pick.query(**changes)


def not_found(request, *, embed: bool = False):
    return render_public(request, WIDGET + "not_found.html", {"embed": embed}, status=404)


def open_widget(request, slug: str, params) -> tuple[Location | None, Pick, HttpResponse | None]:
    """The pick, the client's language, the location; or the page saying it is not
    found."""
    pick = read_pick(params)
    use_language(request, asked=pick.lang)
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
                step_url("widget" if name == "services" else name, slug, pick, **keep[name])
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


def widget_page(request, location: Location, pick: Pick, step: str, context: dict, *, status=200):
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


def summary_of(location, pick: Pick, services: list[Service], specialist=None) -> dict:
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
@counted("widget")
@require_safe
def widget_view(request, slug: str):
    """Step 1: the services, by category; several, in the order the client adds them."""
    location, pick, refused = open_widget(request, slug, request.GET)
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
            else step_url("widget", slug, pick, service_ids=(*chosen_ids, service.pk))
        )
        row["remove_url"] = (
            step_url(
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
        "summary": summary_of(location, pick, chosen),
        "full": full,
        "errors": errors,
        "next_url": step_url("specialist", slug, pick) if chosen else "",
    }
    return widget_page(request, location, pick, "services", context, status=400 if errors else 200)


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
@counted("widget")
@require_safe
def specialist_view(request, slug: str):
    """Step 2: any specialist, or one of those who perform every chosen service."""
    location, pick, refused = open_widget(request, slug, request.GET)
    if refused is not None:
        return refused
    if not pick.service_ids:
        return HttpResponseRedirect(step_url("widget", slug, pick))
    chosen, errors = _chosen(location, pick)
    errors = {**pick.errors, **errors}
    rows = []
    if chosen is not None:
        for specialist in chosen.specialists:
            rows.append(
                {
                    "specialist": specialist,
                    "initials": initials(specialist.name),
                    "photo_url": photo_path(slug=location.public_slug, specialist=specialist),
                    "url": step_url("day", slug, pick, specialist=str(specialist.pk)),
                    "current": pick.specialist == str(specialist.pk),
                }
            )
    context = {
        "rows": rows,
        "any_url": step_url("day", slug, pick, specialist=ANY) if rows else "",
        "summary": summary_of(location, pick, chosen.services if chosen else []),
        "errors": errors,
    }
    return widget_page(
        request, location, pick, "specialist", context, status=400 if errors else 200
    )


def step_choice(request, location, pick: Pick, step: str):
    """The checked choice for the steps after the specialist, or the page to go back to."""
    slug = location.public_slug
    if not pick.service_ids:
        return None, HttpResponseRedirect(step_url("widget", slug, pick))
    if not pick.specialist:
        return None, HttpResponseRedirect(step_url("specialist", slug, pick))
    chosen, errors = _chosen(location, pick, specialist_id=pick.specialist_id)
    if chosen is None:
        clear = {"specialist": "", "month": None, "day": None, "at": None}
        back = "widget" if "services" in errors else "specialist"
        target = step_url(back, slug, pick, **clear)
        return None, widget_page(
            request,
            location,
            pick,
            step,
            {"errors": errors, "broken": True, "back_url": target, "summary": {}},
            status=400,
        )
    return chosen, None


def chosen_specialist(chosen, pick: Pick):
    return chosen.specialists[0] if pick.specialist_id and chosen.specialists else None


@frameable
@counted("widget")
@require_safe
def day_view(request, slug: str):
    """Step 3: a month calendar showing only the days with free time."""
    location, pick, refused = open_widget(request, slug, request.GET)
    if refused is not None:
        return refused
    chosen, back = step_choice(request, location, pick, "day")
    if back is not None:
        return back
    cal = calendar_context(
        chosen=chosen,
        month=pick.month,
        today=local_today(location.timezone),
        url_of=lambda day: step_url("time", slug, pick, day=day, at=None),
        month_url_of=lambda month: step_url("day", slug, pick, month=month, day=None, at=None),
    )
    context = {
        **cal,
        "summary": summary_of(
            location, pick.but(day=None, at=None), chosen.services, chosen_specialist(chosen, pick)
        ),
        "errors": pick.errors,
    }
    return widget_page(request, location, pick, "day", context, status=400 if pick.errors else 200)


def _times(chosen, day: date):
    return availability.free_times(
        location=chosen.location,
        rules=chosen.rules,
        specialists=chosen.specialists,
        duration=chosen.duration,
        day=day,
    )


@frameable
@counted("widget")
@require_safe
def time_view(request, slug: str):
    """Step 4: the day's free times."""
    location, pick, refused = open_widget(request, slug, request.GET)
    if refused is not None:
        return refused
    if not pick.day:
        return HttpResponseRedirect(step_url("day", slug, pick, at=None))
    chosen, back = step_choice(request, location, pick, "time")
    if back is not None:
        return back
    return time_page(request, location, pick, chosen, errors=pick.errors)


def time_page(request, location, pick: Pick, chosen, *, errors: dict, status: int | None = None):
    slug = location.public_slug
    slots = _times(chosen, pick.day)
    times = [
        {
            "start": to_local(slot.start, location.timezone),
            "url": step_url(
                "details", slug, pick, at=to_local(slot.start, location.timezone).time()
            ),
        }
        for slot in slots
    ]
    context = {
        "times": times,
        "day_url": step_url("day", slug, pick, month=month_start(pick.day), day=None, at=None),
        "summary": summary_of(
            location, pick.but(at=None), chosen.services, chosen_specialist(chosen, pick)
        ),
        "errors": errors,
    }
    return widget_page(
        request,
        location,
        pick.but(at=None),
        "time",
        context,
        status=status or (400 if errors else 200),
    )


# --------------------------------------------------------------------------------- photo


@frameable
@counted("photo")
@require_safe
def photo_view(request, slug: str, specialist_id: int):
    """A specialist's photo (a small JPEG kept in the database), cached by the browser: the
    address changes with the photo (``photo_url``), and a repeat asks with its ETag."""
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
