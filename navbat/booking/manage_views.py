"""The client's booking page (F6): ``/book/b/<manage_token>/``, the private link a client gets
when they book online.

The token in the address is the only authority (about 256 random bits); the page shows no
name or phone of the client (whoever typed a phone sees nothing the salon keeps about it).
It says what, when, where and with whom, what was paid and what is due, offers "pay what is
due" (the Quick Payment page), an ``.ics`` file for the calendar, and until the salon's
cut-off a cancel (saying before the click whether the money goes back) and a move to
another free time. A booking awaiting its prepayment shows the time left of its hold and
asks again every few seconds, so it turns "confirmed" by itself once paid.

Never framed; its posts keep Django's CSRF check (the page is opened as a page of its own).
No view here calls a bank: a refund after a cancellation is a job.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from navbat.kit.errors import Conflict, Refused
from navbat.kit.money import format_money
from navbat.kit.timeutil import local_datetime, local_today, to_local
from navbat.kit.urls import public_root, public_url
from navbat.payments import links
from navbat.payments import payables as payable_views
from navbat.payments import services as payments

from . import cancellation, ics, online, public_links
from .availability import free_times, settings_of
from .models import CancelledBy, LatePayment, OnlineBooking, RefundPolicy, Status
from .payables import KIND
from .public_pages import (
    WIDGET,
    calendar_context,
    counted,
    duration_text,
    is_htmx,
    language_codes,
    minutes_text,
    refund_policy_text,
    remember_language,
    render_public,
    use_language,
)
from .selectors import minutes_left
from .widget_forms import read_pick

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")
POLL_SECONDS = 10


def _not_found(request):
    return render_public(request, WIDGET + "booking_not_found.html", {}, status=404)


def _open(request, token: str):
    """The booking behind the token, with the client's language active; or the page saying
    it is not found."""
    asked = request.GET.get("lang") or ""
    booking = online.find_booking(token) if TOKEN_RE.fullmatch(token or "") else None
    if booking is None:
        return None, _not_found(request)
    use_language(request, asked=asked, fallback=booking.language)
    return booking, None


def _page_url(booking: OnlineBooking, **params) -> str:
    url = reverse("booking_public:manage", kwargs={"token": booking.manage_token})
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}?{query}" if query else url


def _state(booking: OnlineBooking, now) -> str:
    appointment = booking.appointment
    if appointment.status == Status.AWAITING_PAYMENT:
        return "awaiting" if appointment.hold_until and appointment.hold_until > now else "released"
    if appointment.status == Status.CANCELLED:
        return "released" if booking.cancelled_by == CancelledBy.HOLD_ENDED else "cancelled"
    if appointment.status in (Status.BOOKED, Status.CONFIRMED):
        return "booked"
    if appointment.status == Status.NO_SHOW:
        return "missed"
    return "visited"


def optional_asked(appointment, view) -> bool:
    """An optional prepayment the client has not paid yet: the page offers it."""
    return bool(
        appointment.prepayment > 0 and not appointment.prepayment_required and view.is_prepayment
    )


def _context(request, booking: OnlineBooking, *, now=None) -> dict:
    now = now or timezone.now()
    appointment = booking.appointment
    location = appointment.location
    settings_row = settings_of(location)
    view = payable_views.describe(business=booking.business, kind=KIND, payable_id=appointment.pk)
    state = _state(booking, now)
    active = state in ("awaiting", "booked")
    changeable = active and online.can_change(booking, now=now)
    holding = cancellation.holding(appointment) if changeable else 0
    refund_now = changeable and cancellation.refund_due_to_client(booking, now=now)
    deadline = online.change_deadline(booking)
    refund_until = None
    if settings_row.refund_policy == RefundPolicy.BEFORE:
        refund_until = appointment.starts_at - timedelta(hours=settings_row.refund_before_hours)
        # Said only where it comes before the last moment one may cancel online at all.
        refund_until = refund_until if refund_until < deadline else None
    left = minutes_left(appointment.hold_until, now) if state == "awaiting" else 0
    return {
        "booking": booking,
        "appointment": appointment,
        "location": location,
        "business": booking.business,
        "view": view,
        "lines": view.lines if view else (),
        "state": state,
        "starts": to_local(appointment.starts_at, location.timezone),
        "ends": to_local(appointment.ends_at, location.timezone),
        "duration": duration_text(
            (appointment.ends_at - appointment.starts_at) // timedelta(minutes=1)
        ),
        "hold_until": (
            to_local(appointment.hold_until, location.timezone) if appointment.hold_until else None
        ),
        "minutes_left": left,
        "time_left": minutes_text(left),
        "poll": state == "awaiting",
        "poll_seconds": POLL_SECONDS,
        "can_pay": bool(
            active
            and view
            and view.is_open
            and view.due > 0
            and online.takes_online_payments(booking.business)
        ),
        "rest_after": format_money(view.rest - view.due) if view else "",
        # Nothing asked in advance any more: paying the rest online is offered, not urged.
        "pay_later": bool(view and not view.is_prepayment),
        "optional_prepayment": bool(view and optional_asked(appointment, view)),
        "can_change": changeable,
        "deadline": to_local(deadline, location.timezone),
        "holding": holding,
        "refund_now": refund_now,
        "refund_until": to_local(refund_until, location.timezone) if refund_until else None,
        "refund_policy": refund_policy_text(settings_row),
        "late": booking.late_payment,
        "late_kinds": LatePayment,
        "cancelled_by": booking.cancelled_by,
        "cancelled_kinds": CancelledBy,
        "new": request.GET.get("new") == "1",
        "done": (request.GET.get("done") or "")[:12],
        "link": public_url("booking_public:manage", token=booking.manage_token),
        "ics_url": reverse("booking_public:manage_ics", kwargs={"token": booking.manage_token}),
        "move_url": reverse("booking_public:manage_move", kwargs={"token": booking.manage_token}),
    }


def _render(request, booking: OnlineBooking, context: dict, *, status=200):
    template = WIDGET + ("_booking.html" if is_htmx(request) else "booking.html")
    return render_public(
        request,
        template,
        context,
        status=status,
        time_zone=booking.appointment.location.timezone,
    )


@counted("manage")
@require_safe
def booking_view(request, token: str):
    booking, refused = _open(request, token)
    if refused is not None:
        return refused
    response = _render(request, booking, _context(request, booking))
    # The payment page leads back here only in this browser (payments.payables.BACK_COOKIE).
    response.set_cookie(
        payable_views.BACK_COOKIE,
        payable_views.back_mark(public_links.manage_url(booking.manage_token)),
        max_age=7 * 24 * 3600,
        path="/pay/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    asked = request.GET.get("lang") or ""
    if asked in language_codes():
        remember_language(response, asked)
    return response


@counted("manage-pay")
@require_POST
def pay_view(request, token: str):
    """To the Quick Payment page for what is due (its link made on first use)."""
    booking, refused = _open(request, token)
    if refused is not None:
        return refused
    context = _context(request, booking)
    if not context["can_pay"]:
        return HttpResponseRedirect(_page_url(booking))
    try:
        link = payments.link_for(
            business=booking.business, kind=KIND, payable_id=booking.appointment_id
        )
    except ValidationError:
        return HttpResponseRedirect(_page_url(booking))
    return HttpResponseRedirect(links.link_url(link.token))


@counted("manage-change")
@require_POST
def cancel_view(request, token: str):
    booking, refused = _open(request, token)
    if refused is not None:
        return refused
    if _state(booking, timezone.now()) not in ("awaiting", "booked"):
        return HttpResponseRedirect(_page_url(booking))
    try:
        cancellation.cancel_by_client(online=booking)
    except Refused as error:
        context = _context(request, booking)
        context["error"] = " ".join(error.messages)
        return _render(request, booking, context, status=409)
    response = HttpResponseRedirect(_page_url(booking, done="cancelled"))
    response.status_code = 303
    return response


# -------------------------------------------------------------------------------- moving


def _move_choice(booking: OnlineBooking):
    appointment = booking.appointment
    service_ids = list(
        appointment.lines.filter(service__isnull=False)
        .order_by("position", "id")
        .values_list("service_id", flat=True)
    )
    return online.choice(
        location=appointment.location,
        service_ids=service_ids,
        specialist_id=appointment.specialist_id,
    )


def _move_page(request, booking: OnlineBooking, *, errors=None, status=200):
    """The same calendar as the widget's, for this booking's services and specialist; a
    day's free times (this booking's own time left out) as buttons that move it."""
    appointment = booking.appointment
    location = appointment.location
    context = _context(request, booking)
    if not context["can_change"]:
        return HttpResponseRedirect(_page_url(booking))
    pick = read_pick(request.GET if request.method != "POST" else request.POST)
    errors = {**pick.errors, **(errors or {})}
    move_url = context["move_url"]
    try:
        chosen = _move_choice(booking)
    except ValidationError:
        chosen = None
        errors["general"] = _("This booking cannot be moved online. Call the salon.")
    if chosen is not None:
        context.update(
            calendar_context(
                chosen=chosen,
                month=pick.month,
                today=local_today(location.timezone),
                url_of=lambda day: f"{move_url}?d={day.isoformat()}",
                month_url_of=lambda month: f"{move_url}?m={month:%Y-%m}",
            )
        )
        if pick.day:
            context["day"] = pick.day
            context["times"] = [
                to_local(slot.start, location.timezone)
                for slot in free_times(
                    location=location,
                    rules=chosen.rules,
                    specialists=chosen.specialists,
                    duration=chosen.duration,
                    day=pick.day,
                    exclude_appointment=appointment.pk,
                )
            ]
    context.update(errors=errors, moving=True)
    template = WIDGET + ("_move.html" if is_htmx(request) else "move.html")
    return render_public(request, template, context, status=status, time_zone=location.timezone)


@counted("manage-move")
@require_http_methods(["GET", "HEAD", "POST"])
def move_view(request, token: str):
    booking, refused = _open(request, token)
    if refused is not None:
        return refused
    if request.method != "POST":
        return _move_page(request, booking)
    pick = read_pick(request.POST)
    if not (pick.day and pick.at):
        return _move_page(
            request, booking, errors={"time": _("Choose one of the times offered.")}, status=400
        )
    starts_at = local_datetime(pick.day, pick.at, booking.appointment.location.timezone)
    try:
        online.reschedule_by_client(online=booking, starts_at=starts_at)
    except Conflict:
        taken = {"time": _("This time has just been taken. Choose another time.")}
        return _move_page(request, booking, errors=taken, status=409)
    except Refused as error:
        context = _context(request, booking)
        context["error"] = " ".join(error.messages)
        return _render(request, booking, context, status=409)
    except ValidationError as error:
        return _move_page(request, booking, errors={"time": " ".join(error.messages)}, status=400)
    response = HttpResponseRedirect(_page_url(booking, done="moved"))
    response.status_code = 303
    return response


# ------------------------------------------------------------------------------ calendar


@counted("manage")
@require_safe
def calendar_view(request, token: str):
    """The booking as an ``.ics`` file (RFC 5545) for the client's calendar."""
    booking, refused = _open(request, token)
    if refused is not None:
        return refused
    appointment = booking.appointment
    location = appointment.location
    titles = list(appointment.lines.order_by("position", "id").values_list("title", flat=True))
    status = {
        Status.AWAITING_PAYMENT: "TENTATIVE",
        Status.CANCELLED: "CANCELLED",
    }.get(appointment.status, "CONFIRMED")
    host = public_root().split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "navbat"
    place = ", ".join(part for part in (booking.business.name, location.address) if part)
    description = "\n".join(
        [
            ", ".join(titles),
            _("Specialist: %(name)s") % {"name": appointment.specialist.name},
        ]
    )
    event = ics.Event(
        uid=f"appointment-{appointment.pk}@{host}",
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        stamp=timezone.now(),
        summary=f"{booking.business.name}: {', '.join(titles)}",
        location=place,
        description=description,
        status=status,
        last_modified=appointment.updated_at,
    )
    response = HttpResponse(ics.calendar(event), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="booking-{appointment.pk}.ics"'
    return response
