import uuid
from datetime import date, datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from navbat.accounts.permissions import business_required, manager_required
from navbat.finance import services as finance
from navbat.finance.fees import format_rate
from navbat.finance.models import RegisterKind, TransactionKind
from navbat.finance.selectors import transactions
from navbat.kit.forms import add_service_errors, check_day
from navbat.kit.money import format_money, tiyin_to_som_text
from navbat.kit.phones import PhoneError, normalise_phone
from navbat.kit.tenancy import get_scoped_or_404, scoped
from navbat.kit.timeutil import local_datetime, local_today, to_local
from navbat.payments import links
from navbat.payments.providers import active_account
from navbat.salons.models import Location
from navbat.salons.permissions import own_specialist_id
from navbat.salons.selectors import client_by_phone, locations

from . import cancellation, holds, selectors, services
from .forms import (
    AppointmentForm,
    DeskPaymentForm,
    DeskRefundForm,
    LineFormSet,
    SalonCancelForm,
    item_choices,
    line_initial,
)
from .models import Appointment, Source, Status


def _location(request) -> Location:
    wanted = request.GET.get("location") or request.POST.get("location")
    rows = locations(business=request.business)
    if wanted:
        if not str(wanted).isdigit():
            raise Http404
        return get_scoped_or_404(rows, request.business, pk=int(wanted))
    location = rows.first()
    if location is None:
        raise Http404
    return location


def _day(raw: str | None, tz_name: str) -> date:
    """The day asked for (today when none); ValidationError when it is no date of ours."""
    if not raw:
        return local_today(tz_name)
    try:
        day = date.fromisoformat(raw[:10]) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError(_("Enter a valid date."))
    return check_day(day)


def _slots(request, grid, lane, day: date, hour_labels: list[str]) -> str:
    """A lane's empty hour slots (links to a new appointment there for managers), built once
    here: as template tags, once per specialist and hour, they were most of the page's
    rendering time."""
    if not (request.membership and request.membership.manages):
        return mark_safe('<div class="slot"></div>' * len(hour_labels))  # noqa: S308
    new_url = reverse("booking:appointment_new")
    return format_html_join(
        "",
        '<a class="slot" href="{}?location={}&specialist={}&start={}T{}" aria-label="{}"></a>',
        (
            (new_url, grid.location.pk, lane.specialist.pk, day.isoformat(), label, label)
            for label in hour_labels
        ),
    )


def _one_of(request, rows: list[Location]) -> Location:
    """The location asked for among the business's (already read for the picker), else the
    first; one that is not the business's is not found."""
    wanted = request.GET.get("location")
    if wanted:
        if not str(wanted).isdigit():
            raise Http404
        for row in rows:
            if row.pk == int(wanted):
                return row
        raise Http404
    if not rows:
        raise Http404
    return rows[0]


@transaction.non_atomic_requests  # reads only: no BEGIN and COMMIT round trips
@business_required
def journal_view(request):
    all_locations = list(locations(business=request.business))
    location = _one_of(request, all_locations)
    try:
        day = _day(request.GET.get("date"), location.timezone)
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages))
    grid = selectors.journal(
        business=request.business,
        location=location,
        day=day,
        only_specialist_id=own_specialist_id(request),
    )
    previous_day, next_day = selectors.neighbour_days(day)
    hour_labels = [hour.strftime("%H:%M") for hour in grid.hours]
    return render(
        request,
        "booking/journal.html",
        {
            "nav": "journal",
            "grid": grid,
            "day": day,
            "hour_labels": hour_labels,
            "lanes": [(lane, _slots(request, grid, lane, day, hour_labels)) for lane in grid.lanes],
            "previous_day": previous_day,
            "next_day": next_day,
            "locations": all_locations,
            "today": local_today(location.timezone),
        },
    )


def _appointment_for(request, appointment_id: int) -> Appointment:
    rows = scoped(Appointment, request.business).select_related(
        "client", "specialist", "location", "document"
    )
    specialist_id = own_specialist_id(request)
    if specialist_id is not None:
        rows = rows.filter(specialist_id=specialist_id)
    return get_scoped_or_404(rows, request.business, pk=appointment_id)


def _initial_for_new(request, location) -> dict:
    initial = {"day": local_today(location.timezone).isoformat()}
    raw_start = request.GET.get("start", "")
    try:
        start = datetime.fromisoformat(raw_start) if raw_start else None
    except ValueError:
        start = None
    if start is not None:
        initial.update(day=start.date().isoformat(), start_time=start.strftime("%H:%M"))
    specialist = request.GET.get("specialist", "")
    if specialist.isdigit():
        initial["specialist"] = int(specialist)
    if request.GET.get("date"):
        initial["day"] = request.GET["date"]
    return initial


def _save_appointment(request, *, form, lines, location, appointment=None):
    data = form.cleaned_data
    tz_name = location.timezone
    starts_at = local_datetime(data["day"], data["start_time"], tz_name)
    ends_at = (
        local_datetime(data["day"], data["end_time"], tz_name) if data.get("end_time") else None
    )
    return services.book_for_phone(
        business=request.business,
        location=location,
        specialist=data["specialist"],
        client_phone=data["client_phone"],
        client_name=data.get("client_name", ""),
        starts_at=starts_at,
        ends_at=ends_at,
        lines=lines,
        comment=data.get("comment", ""),
        author=request.user,
        appointment=appointment,
    )


@manager_required
@require_http_methods(["GET", "POST"])
def appointment_new_view(request):
    location = _location(request)
    return _appointment_editor(request, location=location, appointment=None)


@business_required
@require_http_methods(["GET", "POST"])
def appointment_view(request, appointment_id: int):
    appointment = _appointment_for(request, appointment_id)
    if request.method == "POST" and not request.membership.manages:
        raise Http404
    return _appointment_editor(request, location=appointment.location, appointment=appointment)


def _appointment_editor(request, *, location, appointment):
    business = request.business
    choices = item_choices(business)
    if appointment is None:
        initial = _initial_for_new(request, location)
        lines_initial = [{"quantity": 1, "discount_percent": 0}]
    else:
        local_start = to_local(appointment.starts_at, location.timezone)
        local_end = to_local(appointment.ends_at, location.timezone)
        initial = {
            "client_phone": appointment.client.phone,
            "client_name": appointment.client.name,
            "specialist": appointment.specialist_id,
            "day": local_start.date().isoformat(),
            "start_time": local_start.strftime("%H:%M"),
            "end_time": local_end.strftime("%H:%M"),
            "comment": appointment.comment,
        }
        lines_initial = line_initial(appointment)
    if request.method == "POST":
        form = AppointmentForm(request.POST, business=business, location=location)
        formset = LineFormSet(request.POST, prefix="lines", form_kwargs={"choices": choices})
    else:
        form = AppointmentForm(initial=initial, business=business, location=location)
        formset = LineFormSet(
            initial=lines_initial, prefix="lines", form_kwargs={"choices": choices}
        )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            saved = _save_appointment(
                request,
                form=form,
                lines=formset.lines(),
                location=location,
                appointment=appointment,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The appointment is saved."))
            return redirect("booking:appointment", appointment_id=saved.pk)
    context = {
        "nav": "journal",
        "form": form,
        "formset": formset,
        "appointment": appointment,
        "location": location,
        "status_choices": Status.choices,
    }
    if appointment is not None:
        context.update(_window_context(request, appointment))
    status = 400 if request.method == "POST" else 200
    return render(request, "booking/appointment.html", context, status=status)


def _window_context(request, appointment) -> dict:
    money = selectors.money_of(appointment)
    money_context = _money_context(request, appointment, money)
    next_statuses = selectors.next_statuses(appointment)
    return {
        **money_context,
        "lines": selectors.lines_of(appointment),
        "next_statuses": next_statuses,
        # An online booking holding the client's money asks, on cancelling, whether it goes
        # back (``_cancel_online.html``) instead of a plain "Cancelled" button.
        "cancel_asks": bool(money_context["cancel_form"])
        and any(value == Status.CANCELLED for value, _label in next_statuses),
        "payment_form": DeskPaymentForm(
            business=request.business,
            initial={
                "amount": tiyin_to_som_text(money.due) if money.due else "",
                "idempotency_key": uuid.uuid4(),
            },
        ),
        "starts_local": to_local(appointment.starts_at, appointment.location.timezone),
        "ends_local": to_local(appointment.ends_at, appointment.location.timezone),
        **_online_payment_context(request, appointment, money),
        **_pay_by_qr_context(request, appointment, money),
    }


def _pay_by_qr_context(request, appointment, money) -> dict:
    if not request.membership.manages:
        return {}
    from .qr_views import panel_context  # it builds on this module's helpers

    return panel_context(request, appointment, money=money)


def _money_context(request, appointment, money) -> dict:
    """What the window's money parts show (the totals, the online payments with their
    refunds, the payments in the books, an online booking's prepayment and where the money
    of a cancelled one is): the window, and their refresh after a refund."""
    orders = _with_rates(selectors.online_payments_with_refunds(appointment=appointment))
    duplicates = selectors.duplicates_among(orders)
    online = selectors.online_view(
        appointment=appointment, orders=orders, money=money, now=timezone.now()
    )
    return {
        "online": online,
        "cancel_form": SalonCancelForm() if online and online.held > 0 else None,
        "money": money,
        "payments": _desk_payments(request, appointment),
        "online_payments": orders,
        "duplicates": duplicates,
        # A payment made twice has its own notice, naming the payment to give back (the
        # one recorded later, maybe with its automatic refund on the way): no second one.
        "overpayment": None
        if duplicates
        else selectors.overpayment_of(appointment=appointment, money=money),
    }


def _desk_payments(request, appointment) -> list:
    """The document's money in the books; a payment taken at the desk carries what is left
    to give back of it (``refundable``), online ones are refunded through their payment."""
    rows = list(
        transactions(business=request.business)
        .filter(document=appointment.document)
        .select_related("register")
    )
    for row in rows:
        desk = row.kind == TransactionKind.SALE_PAYMENT and row.register.kind != RegisterKind.ONLINE
        row.refundable = finance.refundable_of(row) if desk else 0
    return rows


def _online_payment_context(request, appointment, money) -> dict:
    link = selectors.payment_link_of(appointment=appointment)
    context = {"payment_link": link}
    if request.membership.manages:
        account = active_account(business=request.business)
        _code, refusal = selectors.payment_link_refusal(
            appointment=appointment, money=money, account=account
        )
        context.update(
            link_refusal=refusal,
            payments_connected=bool(account and account.methods),
            link_panel=_link_panel(appointment, link, money.due) if link and not refusal else None,
        )
    return context


def _with_rates(orders) -> list:
    rows = list(orders)
    for order in rows:
        order.fee_rate_text = "" if order.fee_rate_bp is None else format_rate(order.fee_rate_bp)
    return rows


def _link_panel(appointment, link, due: int) -> dict:
    url = links.link_url(link.token)
    return {
        "link": link,
        "url": url,
        "amount": due,
        "share": links.share(url=url, salon=appointment.business.name, amount=due),
        "qr": links.qr_svg(url),
    }


@manager_required
@require_POST
def appointment_status_view(request, appointment_id: int):
    """The window's status buttons. An online booking goes through its own services: let
    through without its prepayment while it awaits it, and cancelled by the salon (which
    says whether the money it holds goes back); a desk booking moves as it always did."""
    appointment = _appointment_for(request, appointment_id)
    status = request.POST.get("status", "")
    if status not in Status.values:
        return HttpResponseBadRequest(_("Unknown status."))
    window = reverse("booking:appointment", kwargs={"appointment_id": appointment.pk})
    try:
        if appointment.source == Source.ONLINE and status == Status.CANCELLED:
            held = cancellation.holding(appointment)
            refund = False
            if held > 0:
                form = SalonCancelForm(request.POST)
                if not form.is_valid():
                    messages.error(request, " ".join(form.errors["refund"]))
                    return redirect(f"{window}#status")
                refund = form.cleaned_data["refund"]
            given = cancellation.cancel_by_salon(appointment=appointment, refund=refund)
            done = _("The booking is cancelled.")
            if given:
                done += " " + _("%(amount)s goes back to the client.") % {
                    "amount": format_money(given)
                }
            elif held:
                done += " " + _("The prepayment of %(amount)s is kept.") % {
                    "amount": format_money(held)
                }
            messages.success(request, done)
            return redirect(window)
        if appointment.status == Status.AWAITING_PAYMENT and status in (
            Status.BOOKED,
            Status.CONFIRMED,
        ):
            holds.book_without_prepayment(appointment=appointment, status=status)
        else:
            services.change_status(appointment=appointment, status=status)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Status changed to “%(status)s”.") % {"status": Status(status).label}
        )
    return redirect(window)


@manager_required
@require_POST
def appointment_payment_view(request, appointment_id: int):
    appointment = _appointment_for(request, appointment_id)
    form = DeskPaymentForm(request.POST, business=request.business)
    if form.is_valid():
        try:
            services.take_desk_payment(
                appointment=appointment,
                register_id=form.cleaned_data["register"].pk,
                amount=form.cleaned_data["amount"],
                author=request.user,
                idempotency_key=str(form.cleaned_data["idempotency_key"] or ""),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The payment is recorded."))
            return redirect("booking:appointment", appointment_id=appointment.pk)
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("booking:appointment", appointment_id=appointment.pk)


@manager_required
@require_POST
def appointment_payment_link_view(request, appointment_id: int):
    """F2: the appointment's payment link (the same one on every press), with what it takes
    to send it. htmx swaps in the panel; without htmx the window shows it after a redirect."""
    appointment = _appointment_for(request, appointment_id)
    try:
        sent = services.send_payment_link(appointment=appointment, author=request.user)
    except ValidationError as exc:
        sent = None
        refusal = " ".join(exc.messages)
    else:
        refusal = sent.refusal
    link = sent.link if sent else None
    if request.headers.get("HX-Request"):
        return render(
            request,
            "booking/_payment_link.html",
            {
                "appointment": appointment,
                "link_refusal": refusal,
                "payments_connected": _connected(request, sent),
                "link_panel": _link_panel(appointment, link, sent.money.due) if link else None,
                "oob_sent": True,  # the window's "Payment link sent …" line updates too
            },
        )
    if refusal:
        messages.error(request, refusal)
    else:
        messages.success(request, _("The payment link is ready: copy it or send it to the client."))
    url = reverse("booking:appointment", kwargs={"appointment_id": appointment.pk})
    return redirect(f"{url}#online-payment")


def _connected(request, sent) -> bool:
    if sent is not None:
        return sent.connected
    account = active_account(business=request.business)
    return bool(account and account.methods)


@manager_required
def client_lookup_view(request):
    """htmx: as the desk types a phone, say whose it is (or that the client is new)."""
    raw = request.GET.get("client_phone", "")
    try:
        phone = normalise_phone(raw)
    except PhoneError:
        client = None
        phone = ""
    else:
        client = client_by_phone(business=request.business, phone=phone)
    return render(
        request, "booking/_client_lookup.html", {"client": client, "phone": phone, "raw": raw}
    )


@manager_required
@require_http_methods(["GET"])
def appointment_money_view(request, appointment_id: int):
    """htmx: the window's money parts again (after a refund), each swapped into its place."""
    appointment = _appointment_for(request, appointment_id)
    money = selectors.money_of(appointment)
    context = {"appointment": appointment, **_money_context(request, appointment, money)}
    return render(request, "booking/_money.html", context)


@manager_required
@require_http_methods(["GET", "POST"])
def appointment_desk_refund_view(request, appointment_id: int, transaction_id: int):
    """Give back (part of) a payment taken at the desk, from the register it went into.
    htmx shows the form in the window's refund panel; without htmx it is a page."""
    appointment = _appointment_for(request, appointment_id)
    rows = transactions(business=request.business).filter(
        document=appointment.document, kind=TransactionKind.SALE_PAYMENT
    )
    taken = get_scoped_or_404(rows.select_related("register"), request.business, pk=transaction_id)
    if taken.register.kind == RegisterKind.ONLINE:
        raise Http404  # an online payment is refunded through its payment order
    done = ""
    changed = False
    if request.method == "POST":
        form = DeskRefundForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                finance.refund_desk_payment(
                    original=taken,
                    amount=data["amount"],
                    reason=data["reason"],
                    author=request.user,
                    idempotency_key=f"desk-refund:{data['idempotency_key'] or uuid.uuid4()}",
                )
            except ValidationError as exc:  # Conflict too
                add_service_errors(form, exc)
            else:
                changed = True
                done = _("%(amount)s is given back from %(register)s.") % {
                    "amount": format_money(data["amount"]),
                    "register": taken.register.name,
                }
                if not request.headers.get("HX-Request"):
                    messages.success(request, done)
                    return redirect("booking:appointment", appointment_id=appointment.pk)
    else:
        form = None
    left = finance.refundable_of(taken)
    if form is None or changed:
        asked = request.GET.get("amount", "")
        amount = int(asked) if asked.isdigit() and 0 < int(asked) < left else left
        form = DeskRefundForm(initial={"amount": amount, "idempotency_key": uuid.uuid4()})
    context = {
        "appointment": appointment,
        "taken": taken,
        "refundable": left,
        "form": form,
        "done": done,
    }
    if request.headers.get("HX-Request"):
        response = render(request, "booking/_desk_refund.html", context)
        if changed:
            response["HX-Trigger"] = "payment-refunded"
        return response
    status = 400 if request.method == "POST" else 200
    return render(request, "booking/desk_refund.html", {"nav": "journal", **context}, status=status)
