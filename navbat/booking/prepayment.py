"""What an online booking asks in advance (F6), from the services' and the specialist's
rules.

Each service has a rule (none, optional or required; the full price, a percent or a fixed
amount) and so has the specialist (none, optional or required, where required means the
service's whole price). For each service the stricter of the two applies: required over
optional over none, and between two of the same strength the larger amount. The booking
then asks the sum over its required services; with none required, the sum over its
optional ones, which the client may pay or not. A price range counts at its lowest. The
amount never exceeds the visit's total.
"""

from dataclasses import dataclass

from navbat.kit.money import percent_of
from navbat.salons.models import Prepayment, PrepaymentAmount, Service, Specialist

STRENGTH = {Prepayment.NONE: 0, Prepayment.OPTIONAL: 1, Prepayment.REQUIRED: 2}


@dataclass(frozen=True)
class Asked:
    amount: int  # tiyin; 0 when nothing is asked
    required: bool

    @property
    def mode(self) -> str:
        if not self.amount:
            return Prepayment.NONE
        return Prepayment.REQUIRED if self.required else Prepayment.OPTIONAL


def service_amount(service: Service) -> int:
    """What the service's own rule asks (its mode aside)."""
    price = service.price
    if service.prepayment_amount == PrepaymentAmount.PERCENT:
        return percent_of(price, min(max(service.prepayment_value, 0), 100))
    if service.prepayment_amount == PrepaymentAmount.FIXED:
        return min(max(service.prepayment_value, 0), price)
    return price


def _stricter(first: tuple[str, int], second: tuple[str, int]) -> tuple[str, int]:
    if STRENGTH[first[0]] != STRENGTH[second[0]]:
        return first if STRENGTH[first[0]] > STRENGTH[second[0]] else second
    return first if first[1] >= second[1] else second


def asked_for(*, services: list[Service], specialist: Specialist) -> Asked:
    per_service = []
    for service in services:
        own = (Prepayment(service.prepayment), service_amount(service))
        if own[0] == Prepayment.NONE:
            own = (Prepayment.NONE, 0)
        theirs = (Prepayment(specialist.prepayment), service.price)
        if theirs[0] == Prepayment.NONE:
            theirs = (Prepayment.NONE, 0)
        per_service.append(_stricter(own, theirs))
    total = sum(service.price for service in services)
    for mode in (Prepayment.REQUIRED, Prepayment.OPTIONAL):
        amount = sum(amount for each_mode, amount in per_service if each_mode == mode)
        if amount > 0:
            return Asked(amount=min(amount, total), required=mode == Prepayment.REQUIRED)
    return Asked(amount=0, required=False)
