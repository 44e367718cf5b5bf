"""Pay by QR (payments/qr.py): binding a checkout point to one payable, replacing, releasing,
and the binding ending by itself when paid, closed or out of time; refusals change nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from navbat.booking.services import cancel_appointment, take_desk_payment
from navbat.payments import qr
from navbat.payments.models import PaymentLink, PointBinding
from navbat.salons.checkout_points import create_checkout_point, retire_checkout_point

pytestmark = pytest.mark.django_db


def bind(salon, appointment, point=None, **options):
    return qr.bind(
        point=point or salon.checkout_point,
        kind="appointment",
        payable_id=appointment.pk,
        author=salon.admin,
        **options,
    )


def bindings(salon) -> list[tuple]:
    rows = PointBinding.objects.filter(business=salon.business).order_by("id")
    return [(b.point_id, b.link.payable_id, b.ended_at is None, b.end_reason) for b in rows]


def test_binding_makes_the_link_and_waits_for_the_salons_minutes(salon_a):
    appointment = salon_a.appointments[0]
    salon_a.business.qr_pay_minutes = 20
    salon_a.business.save(update_fields=["qr_pay_minutes"])
    now = timezone.now()
    binding = bind(salon_a, appointment, now=now)
    link = PaymentLink.objects.get(payable_kind="appointment", payable_id=appointment.pk)
    assert (binding.point_id, binding.link_id, binding.bound_by) == (
        salon_a.checkout_point.pk,
        link.pk,
        salon_a.admin,
    )
    assert binding.expires_at == now + timedelta(minutes=20)
    assert qr.in_force(point=salon_a.checkout_point) == binding
    assert (
        qr.binding_of(business=salon_a.business, kind="appointment", payable_id=appointment.pk)
        == binding
    )
    assert bindings(salon_a) == [(salon_a.checkout_point.pk, appointment.pk, True, "")]


def test_binding_the_same_appointment_again_starts_its_time_again(salon_a):
    appointment = salon_a.appointments[0]
    now = timezone.now()
    first = bind(salon_a, appointment, now=now)
    again = bind(salon_a, appointment, now=now + timedelta(minutes=5))
    assert again.pk == first.pk
    assert again.expires_at == now + timedelta(minutes=20)
    assert PointBinding.objects.filter(business=salon_a.business).count() == 1


def test_a_point_held_by_another_unpaid_appointment_is_refused_naming_it(salon_a):
    first, second = salon_a.appointments
    held = bind(salon_a, first)
    with pytest.raises(qr.BindingConflict) as refused:
        bind(salon_a, second)
    assert (refused.value.reason, refused.value.held_kind, refused.value.held_id) == (
        "held",
        "appointment",
        first.pk,
    )
    assert refused.value.messages == [
        f"Desk is waiting for the payment of Appointment #{first.pk}."
    ]
    assert bindings(salon_a) == [(salon_a.checkout_point.pk, first.pk, True, "")]
    assert qr.in_force(point=salon_a.checkout_point) == held
    assert not PaymentLink.objects.filter(payable_id=second.pk).exists()


def test_confirming_replaces_the_held_appointment(salon_a):
    first, second = salon_a.appointments
    bind(salon_a, first)
    binding = bind(salon_a, second, confirm_replace=True)
    assert qr.in_force(point=salon_a.checkout_point) == binding
    assert bindings(salon_a) == [
        (salon_a.checkout_point.pk, first.pk, False, "replaced"),
        (salon_a.checkout_point.pk, second.pk, True, ""),
    ]


def test_release_frees_the_point(salon_a):
    first, second = salon_a.appointments
    bind(salon_a, first)
    assert qr.release(point=salon_a.checkout_point) == 1
    assert qr.release(point=salon_a.checkout_point) == 0
    assert qr.in_force(point=salon_a.checkout_point) is None
    bind(salon_a, second)
    assert bindings(salon_a) == [
        (salon_a.checkout_point.pk, first.pk, False, "released"),
        (salon_a.checkout_point.pk, second.pk, True, ""),
    ]
    assert (
        qr.release_payable(business=salon_a.business, kind="appointment", payable_id=second.pk) == 1
    )
    assert qr.in_force(point=salon_a.checkout_point) is None


def test_an_expired_binding_ends_when_read_and_frees_the_point(salon_a):
    first, second = salon_a.appointments
    now = timezone.now()
    bind(salon_a, first, now=now)
    assert qr.in_force(point=salon_a.checkout_point, now=now + timedelta(minutes=15)) is None
    assert bindings(salon_a) == [(salon_a.checkout_point.pk, first.pk, False, "expired")]
    # Out of time but not yet read: the next binding ends it and takes the point.
    bind(salon_a, second, now=now)
    binding = bind(salon_a, first, now=now + timedelta(minutes=16))
    assert binding.link.payable_id == first.pk
    assert [row[2:] for row in bindings(salon_a)] == [
        (False, "expired"),
        (False, "expired"),
        (True, ""),
    ]


def test_a_paid_appointment_frees_the_point_and_cannot_be_bound(salon_a):
    first, second = salon_a.appointments
    bind(salon_a, first)
    take_desk_payment(appointment=first, register_id=salon_a.cash.pk, amount=10_000_000)
    assert qr.in_force(point=salon_a.checkout_point) is None
    assert bindings(salon_a) == [(salon_a.checkout_point.pk, first.pk, False, "paid")]
    with pytest.raises(qr.BindingConflict) as refused:
        bind(salon_a, first)
    assert (refused.value.reason, refused.value.messages) == (
        "nothing_due",
        ["This is already paid."],
    )
    assert len(bindings(salon_a)) == 1


def test_a_cancelled_appointment_frees_the_point_and_cannot_be_bound(salon_a):
    first, second = salon_a.appointments
    bind(salon_a, first)
    cancel_appointment(appointment=first)
    # The next binding of the point ends the closed one.
    bind(salon_a, second)
    assert bindings(salon_a) == [
        (salon_a.checkout_point.pk, first.pk, False, "closed"),
        (salon_a.checkout_point.pk, second.pk, True, ""),
    ]
    with pytest.raises(qr.BindingConflict) as refused:
        bind(salon_a, first, confirm_replace=True)
    assert refused.value.reason == "closed"
    assert len(bindings(salon_a)) == 2


def test_a_retired_point_cannot_be_bound(salon_a):
    point = create_checkout_point(business=salon_a.business, location=salon_a.location, name="2")
    retire_checkout_point(point=point)
    with pytest.raises(ValidationError) as refused:
        bind(salon_a, salon_a.appointments[0], point=point)
    assert refused.value.message_dict == {"checkout_point": ["This checkout point is retired."]}
    assert bindings(salon_a) == []
    assert PaymentLink.objects.filter(business=salon_a.business).count() == 0


def test_one_appointment_at_two_points_and_the_last_used_point(salon_a):
    first = salon_a.appointments[0]
    other = create_checkout_point(business=salon_a.business, location=salon_a.location, name="2")
    assert qr.last_point_id(business=salon_a.business, user=salon_a.admin) is None
    bind(salon_a, first)
    bind(salon_a, first, point=other)
    assert qr.last_point_id(business=salon_a.business, user=salon_a.admin) == other.pk
    assert qr.last_point_id(business=salon_a.business, user=salon_a.owner) == other.pk
    assert (
        qr.binding_of(business=salon_a.business, kind="appointment", payable_id=first.pk).point_id
        == other.pk
    )
    assert (
        qr.release_payable(business=salon_a.business, kind="appointment", payable_id=first.pk) == 2
    )


def test_the_points_url_and_the_code_lookup(salon_a, settings):
    settings.NAVBAT_PUBLIC_URL = "https://navbat.example"
    point = salon_a.checkout_point
    code = point.codes.get(retired_at=None).code
    assert qr.point_url(point) == f"https://navbat.example/q/{code}"
    found = qr.by_code(code)
    assert (found.point, found.retired, found.binding) == (point, False, None)
    assert qr.by_code("x" * 22) is None
    assert qr.by_code("../../etc/passwd") is None
    retire_checkout_point(point=point)
    assert qr.by_code(code).retired is True
    point.refresh_from_db()
    assert qr.point_url(point) == ""


def test_a_point_of_another_location_is_refused_and_nothing_is_bound(salon_a):
    from navbat.salons.services import create_location

    elsewhere = create_location(business=salon_a.business, name="Yunusobod")
    point = create_checkout_point(business=salon_a.business, location=elsewhere, name="Desk Y")
    appointment = salon_a.appointments[0]

    with pytest.raises(ValidationError) as refused:
        bind(salon_a, appointment, point=point, location_id=appointment.location_id)

    assert refused.value.message_dict == {
        "checkout_point": ["This checkout point is at another location."]
    }
    assert bindings(salon_a) == []
    assert not PaymentLink.objects.filter(payable_id=appointment.pk).exists()


def test_retiring_a_point_ends_the_binding_waiting_there(salon_a):
    appointment = salon_a.appointments[0]
    bind(salon_a, appointment)

    retire_checkout_point(point=salon_a.checkout_point)

    assert (
        qr.binding_of(business=salon_a.business, kind="appointment", payable_id=appointment.pk)
        is None
    )
    assert bindings(salon_a) == [(salon_a.checkout_point.pk, appointment.pk, False, "closed")]


def test_binding_again_after_the_binding_ended_meanwhile_makes_a_new_one(salon_a, monkeypatch):
    """The binding in force was read, then ended by someone else before its time was
    extended: the point is bound afresh, never reported bound while it is free."""
    appointment = salon_a.appointments[0]
    first = bind(salon_a, appointment)
    in_force = qr.in_force

    def read_then_released(**kwargs):
        found = in_force(**kwargs)
        PointBinding.objects.filter(pk=first.pk).update(
            ended_at=timezone.now(), end_reason="released"
        )
        return found

    monkeypatch.setattr(qr, "in_force", read_then_released)
    again = bind(salon_a, appointment)

    assert again.pk != first.pk
    assert bindings(salon_a) == [
        (salon_a.checkout_point.pk, appointment.pk, False, "released"),
        (salon_a.checkout_point.pk, appointment.pk, True, ""),
    ]
