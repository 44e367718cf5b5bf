"""The widget's last step (F6): name, phone, comment, the salon's terms, a phone code where
the salon asks one, the honeypot; then the booking (``online.book_online``), which leads to
the client's booking page. See ``widget_views`` for the steps before and for why these posts
need no CSRF cookie."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from navbat.kit.errors import Conflict, Refused
from navbat.kit.phones import PhoneError, normalise_phone
from navbat.kit.timeutil import local_datetime

from . import availability, online, phone_checks
from .public_pages import change_rule_text, counted, frameable, refund_policy_text, typed_phone
from .widget_forms import DetailsForm, Pick
from .widget_views import (
    chosen_specialist,
    not_found,
    open_widget,
    step_choice,
    step_url,
    summary_of,
    time_page,
    widget_page,
)


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
            "summary": summary_of(
                self.location,
                self.pick,
                self.chosen.services,
                chosen_specialist(self.chosen, self.pick),
            ),
            "asked": self.asked,
            "hold_minutes": settings_row.hold_minutes,
            "refund_policy": refund_policy_text(settings_row),
            "change_rule": change_rule_text(settings_row),
            "terms": settings_row.terms,
            "phone_confirmation": settings_row.phone_confirmation,
            "time_url": step_url("time", self.location.public_slug, self.pick, at=None),
        }


def _details_or_page(request, slug: str, params) -> tuple[_Details | None, HttpResponse | None]:
    """The checked choice of a time, or the page to show instead: a limit, a step to go
    back to, or the day's times again when the time is no longer free."""
    location, pick, refused = open_widget(request, slug, params)
    if refused is not None:
        return None, refused
    if not (pick.day and pick.at):
        target = "time" if pick.day else "day"
        return None, HttpResponseRedirect(step_url(target, slug, pick, at=None))
    chosen, back = step_choice(request, location, pick, "details")
    if back is not None:
        return None, back
    offered = _offered(chosen, _start_of(location, pick))
    if not offered:
        taken = {"time": _("This time is no longer free. Choose another time.")}
        status = 409 if request.method == "POST" else 400
        return None, time_page(request, location, pick, chosen, errors=taken, status=status)
    return _Details(location, pick, chosen, offered), None


def _counter(request) -> str:
    if request.method != "POST":
        return "widget"
    return "code" if request.POST.get("action") in ("code", "confirm") else "book"


@frameable
@csrf_exempt
@counted(_counter)
@require_http_methods(["GET", "HEAD", "POST"])
def details_view(request, slug: str):
    """Step 5: name, phone, comment, the salon's terms, a phone code where the salon asks
    one; then book. Posts here (``action``: ``code`` asks a phone code, ``confirm`` checks
    it, ``book`` books)."""
    params = request.POST if request.method == "POST" else request.GET
    details, page = _details_or_page(request, slug, params)
    if page is not None:
        return page
    if request.method != "POST":
        return _details_page(request, details, DetailsForm(), {})
    form = DetailsForm(request.POST)
    if form.filled_honeypot():
        # A bot: refused without saying why, nothing stored, no code asked.
        return _details_page(
            request,
            details,
            DetailsForm(),
            {"general": _("The booking could not be made. Please try again.")},
            status=400,
        )
    action = request.POST.get("action", "book")
    # Codes only where the salon confirms phones: elsewhere the page would be a free way to
    # fill the salon's list of codes (and to lock a phone out of its codes).
    if action in ("code", "confirm") and details.settings.phone_confirmation:
        return _phone_code(request, details, form, action)
    return _book(request, details, form)


def _details_page(request, details: _Details, form, errors: dict, *, status=200, **extra):
    context = {**details.context(), "form": form, "errors": errors, **extra}
    if details.settings.phone_confirmation:
        nonce = (form.data.get("phone_check") or "")[:64] if form.is_bound else ""
        phone = phone_checks.confirmed_phone(location=details.location, nonce=nonce)
        context.setdefault("phone_check", nonce)
        context.setdefault("confirmed_phone", phone)
    return widget_page(request, details.location, details.pick, "details", context, status=status)


def _phone_code(request, details: _Details, form, action: str):
    """Ask a code for the typed phone, or check the typed code (the salon reads the code
    out until navbat sends messages)."""
    raw_phone = (form.data.get("phone") or "")[:32]
    phone = typed_phone(raw_phone)
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
    phone = typed_phone(form.data.get("phone"))
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
        return time_page(request, location, pick, chosen, errors=taken, status=409)
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
