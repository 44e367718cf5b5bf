"""What an online booking asks in advance (F6): the service's rule (none, optional or
required; the full price, a percent or a fixed amount) against the specialist's (none,
optional or required = the whole price), the stricter winning; price ranges at their
lowest; the cap at the visit's total; several services."""

import pytest

from navbat.booking.prepayment import Asked, asked_for, service_amount
from navbat.salons.models import Prepayment, PrepaymentAmount, Service, Specialist

NONE, OPTIONAL, REQUIRED = Prepayment.NONE, Prepayment.OPTIONAL, Prepayment.REQUIRED
FULL, PERCENT, FIXED = PrepaymentAmount.FULL, PrepaymentAmount.PERCENT, PrepaymentAmount.FIXED

PRICE = 10_000_000  # 100 000 so'm
VALUE = {FULL: 0, PERCENT: 30, FIXED: 2_500_000}


def service(mode=NONE, kind=FULL, value=None, price=PRICE, price_max=None) -> Service:
    return Service(
        name="Haircut",
        price=price,
        price_max=price_max,
        duration_minutes=60,
        prepayment=mode,
        prepayment_amount=kind,
        prepayment_value=VALUE[kind] if value is None else value,
    )


def specialist(mode=NONE) -> Specialist:
    return Specialist(name="Aziza", prepayment=mode)


# (service's mode, its amount, the specialist's mode) -> (amount asked, required)
COMBINATIONS = [
    (NONE, FULL, NONE, 0, False),
    (NONE, PERCENT, NONE, 0, False),
    (NONE, FIXED, NONE, 0, False),
    (NONE, FULL, OPTIONAL, 10_000_000, False),
    (NONE, PERCENT, OPTIONAL, 10_000_000, False),
    (NONE, FIXED, OPTIONAL, 10_000_000, False),
    (NONE, FULL, REQUIRED, 10_000_000, True),
    (NONE, PERCENT, REQUIRED, 10_000_000, True),
    (NONE, FIXED, REQUIRED, 10_000_000, True),
    (OPTIONAL, FULL, NONE, 10_000_000, False),
    (OPTIONAL, PERCENT, NONE, 3_000_000, False),
    (OPTIONAL, FIXED, NONE, 2_500_000, False),
    # Two optional rules: the larger amount.
    (OPTIONAL, FULL, OPTIONAL, 10_000_000, False),
    (OPTIONAL, PERCENT, OPTIONAL, 10_000_000, False),
    (OPTIONAL, FIXED, OPTIONAL, 10_000_000, False),
    (OPTIONAL, FULL, REQUIRED, 10_000_000, True),
    (OPTIONAL, PERCENT, REQUIRED, 10_000_000, True),
    (OPTIONAL, FIXED, REQUIRED, 10_000_000, True),
    (REQUIRED, FULL, NONE, 10_000_000, True),
    (REQUIRED, PERCENT, NONE, 3_000_000, True),
    (REQUIRED, FIXED, NONE, 2_500_000, True),
    # Required beats optional, whatever the amounts.
    (REQUIRED, FULL, OPTIONAL, 10_000_000, True),
    (REQUIRED, PERCENT, OPTIONAL, 3_000_000, True),
    (REQUIRED, FIXED, OPTIONAL, 2_500_000, True),
    # Both required: the specialist's whole price is the stricter.
    (REQUIRED, FULL, REQUIRED, 10_000_000, True),
    (REQUIRED, PERCENT, REQUIRED, 10_000_000, True),
    (REQUIRED, FIXED, REQUIRED, 10_000_000, True),
]


@pytest.mark.parametrize(("mode", "kind", "theirs", "amount", "required"), COMBINATIONS)
def test_the_stricter_of_the_service_and_the_specialist_wins(mode, kind, theirs, amount, required):
    asked = asked_for(services=[service(mode, kind)], specialist=specialist(theirs))
    assert asked == Asked(amount=amount, required=required)
    expected_mode = NONE if not amount else (REQUIRED if required else OPTIONAL)
    assert asked.mode == expected_mode


def test_every_combination_is_listed_once():
    seen = {(mode, kind, theirs) for mode, kind, theirs, _a, _r in COMBINATIONS}
    assert len(seen) == len(COMBINATIONS) == 27


def test_a_price_range_counts_at_its_lowest():
    ranged = dict(price=20_000_000, price_max=50_000_000)
    cases = [
        (service(REQUIRED, FULL, **ranged), NONE, 20_000_000),
        (service(REQUIRED, PERCENT, 30, **ranged), NONE, 6_000_000),
        # A fixed amount above the lowest price is cut to it.
        (service(REQUIRED, FIXED, 30_000_000, **ranged), NONE, 20_000_000),
        (service(NONE, **ranged), REQUIRED, 20_000_000),
        (service(OPTIONAL, PERCENT, 10, **ranged), REQUIRED, 20_000_000),
    ]
    for one, theirs, amount in cases:
        assert asked_for(services=[one], specialist=specialist(theirs)) == Asked(amount, True)


def test_percent_and_fixed_amounts_are_bounded_and_rounded_half_up():
    assert service_amount(service(REQUIRED, PERCENT, 50, price=333)) == 167  # 166.5
    assert service_amount(service(REQUIRED, PERCENT, 1, price=149)) == 1  # 1.49
    assert service_amount(service(REQUIRED, PERCENT, 150)) == PRICE
    assert service_amount(service(REQUIRED, PERCENT, -5)) == 0
    assert service_amount(service(REQUIRED, FIXED, PRICE + 1)) == PRICE
    assert service_amount(service(REQUIRED, FIXED, -1)) == 0
    assert service_amount(service(REQUIRED, FULL, 12345)) == PRICE  # the value is not read
    assert service_amount(service(REQUIRED, PERCENT, 100, price=0)) == 0


def test_the_amount_never_exceeds_the_visits_total():
    services = [
        service(REQUIRED, FIXED, 99_000_000, price=1_000_000),
        service(REQUIRED, PERCENT, 100, price=2_000_000),
        service(REQUIRED, FULL, price=3_000_000, price_max=9_000_000),
    ]
    asked = asked_for(services=services, specialist=specialist(REQUIRED))
    assert asked == Asked(amount=6_000_000, required=True)
    free = asked_for(services=[service(REQUIRED, FULL, price=0)], specialist=specialist(REQUIRED))
    assert free == Asked(amount=0, required=False)


def test_several_services_sum_what_each_asks():
    cut = service(REQUIRED, PERCENT, 30)  # 3 000 000 required
    colour = service(OPTIONAL, FULL, price=20_000_000)  # 20 000 000 optional
    nails = service(NONE, price=5_000_000)
    # Something is required: the booking asks the required part (the optional part is
    # not added to it).
    assert asked_for(services=[cut, colour, nails], specialist=specialist()) == Asked(
        3_000_000, True
    )
    # Nothing required: the optional parts, summed.
    second = service(OPTIONAL, FIXED, 2_500_000)
    assert asked_for(services=[colour, second, nails], specialist=specialist()) == Asked(
        22_500_000, False
    )
    # The specialist's optional rule covers the services without one of their own.
    assert asked_for(services=[colour, nails], specialist=specialist(OPTIONAL)) == Asked(
        25_000_000, False
    )
    # The specialist's required rule: every service's whole price.
    assert asked_for(services=[cut, colour, nails], specialist=specialist(REQUIRED)) == Asked(
        35_000_000, True
    )
    # The order of the services changes nothing.
    assert asked_for(services=[nails, colour, cut], specialist=specialist()) == Asked(
        3_000_000, True
    )
    # Two required services at their own rules, an optional specialist adding nothing to
    # them but the whole price of the third as an optional part that is not asked.
    other = service(REQUIRED, FIXED, 1_000_000, price=4_000_000)
    assert asked_for(services=[cut, other, nails], specialist=specialist(OPTIONAL)) == Asked(
        4_000_000, True
    )


def test_a_required_rule_asking_nothing_leaves_the_optional_ones():
    zero = service(REQUIRED, PERCENT, 0)
    colour = service(OPTIONAL, PERCENT, 50, price=20_000_000)
    assert asked_for(services=[zero, colour], specialist=specialist()) == Asked(10_000_000, False)
    assert asked_for(services=[zero], specialist=specialist()) == Asked(0, False)


def test_nothing_is_asked_for_no_services():
    assert asked_for(services=[], specialist=specialist(REQUIRED)) == Asked(0, False)
    assert Asked(0, False).mode == NONE
