"""Reads of a business's catalog, staff and clients."""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Count, F, Q, QuerySet, Value

from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import local_datetime, to_local

from .models import (
    CheckoutPoint,
    Client,
    Location,
    Product,
    ScheduleException,
    Service,
    ServiceCategory,
    Specialist,
    WorkingHours,
)


def locations(*, business) -> QuerySet[Location]:
    return scoped(Location, business)


def checkout_points(
    *, business, location_id: int | None = None, active_only: bool = False
) -> QuerySet[CheckoutPoint]:
    """The business's checkout points (of one location; only those not retired)."""
    points = scoped(CheckoutPoint, business).select_related("location")
    if location_id is not None:
        points = points.filter(location_id=location_id)
    return points.filter(retired_at=None) if active_only else points


def specialists(*, business, location=None, active_only: bool = False) -> QuerySet[Specialist]:
    rows = scoped(Specialist, business).select_related("location")
    if location is not None:
        rows = rows.filter(location=location)
    if active_only:
        rows = rows.filter(is_active=True)
    return rows


def categories(*, business) -> QuerySet[ServiceCategory]:
    return scoped(ServiceCategory, business)


def services(*, business, active_only: bool = False) -> QuerySet[Service]:
    rows = scoped(Service, business).select_related("category")
    return rows.filter(is_active=True) if active_only else rows


def products(*, business, active_only: bool = False) -> QuerySet[Product]:
    rows = scoped(Product, business)
    return rows.filter(is_active=True) if active_only else rows


def clients(*, business, search: str = "") -> QuerySet[Client]:
    rows = scoped(Client, business)
    search = search.strip()
    if search:
        digits = "".join(ch for ch in search if ch.isdigit())
        condition = Q(name__icontains=search) | Q(email__icontains=search)
        if len(digits) >= 3:
            condition |= Q(phone__contains=digits)
        rows = rows.filter(condition)
    return rows


def client_by_phone(*, business, phone: str) -> Client | None:
    return scoped(Client, business).filter(phone=phone).first()


def working_windows(
    *, business, specialist_ids: list[int], day: date
) -> dict[int, tuple[time, time] | None]:
    """Each specialist's hours on a local day (None: not working), in one statement for all:
    the regular shifts and that day's exceptions as one UNION ALL (each is unique per
    specialist and day; an exception overrides the shift)."""
    windows: dict[int, tuple[time, time] | None] = dict.fromkeys(specialist_ids)
    if not specialist_ids:
        return windows
    columns = ("specialist_id", "starts", "ends", "exception", "day_off")
    shifts = (
        scoped(WorkingHours, business)
        .filter(specialist_id__in=specialist_ids, weekday=day.weekday())
        .annotate(exception=Value(False), day_off=Value(False))
        .values_list(*columns)
        .order_by()
    )
    exceptions = (
        scoped(ScheduleException, business)
        .filter(specialist_id__in=specialist_ids, day=day)
        .annotate(exception=Value(True), day_off=F("is_day_off"))
        .values_list(*columns)
        .order_by()
    )
    rows = sorted(shifts.union(exceptions, all=True), key=lambda row: row[3])
    for specialist_id, starts, ends, exception, day_off in rows:
        if exception and (day_off or not (starts and ends)):
            windows[specialist_id] = None
        else:
            windows[specialist_id] = (starts, ends)
    return windows


def working_window(*, specialist: Specialist, day: date) -> tuple[time, time] | None:
    """The specialist's hours on a local day, or None when they do not work then."""
    return working_windows(business=specialist.business, specialist_ids=[specialist.pk], day=day)[
        specialist.pk
    ]


def fits_working_hours(*, specialist: Specialist, starts_at: datetime, ends_at: datetime) -> bool:
    tz_name = specialist.location.timezone
    local_start = to_local(starts_at, tz_name)
    window = working_window(specialist=specialist, day=local_start.date())
    if window is None:
        return False
    opens = local_datetime(local_start.date(), window[0], tz_name)
    closes = local_datetime(local_start.date(), window[1], tz_name)
    return opens <= starts_at and ends_at <= closes


def weekly_schedule(*, specialist: Specialist) -> dict[int, tuple[time, time] | None]:
    week: dict[int, tuple[time, time] | None] = dict.fromkeys(range(7))
    for row in scoped(WorkingHours, specialist.business).filter(specialist=specialist):
        week[row.weekday] = (row.starts, row.ends)
    return week


def specialists_overview(*, business) -> QuerySet[Specialist]:
    """Specialists with how many services each performs, for the staff list."""
    return specialists(business=business).annotate(service_count=Count("services", distinct=True))


def schedule_exceptions(
    *, specialist: Specialist, since: date | None = None
) -> QuerySet[ScheduleException]:
    rows = scoped(ScheduleException, specialist.business).filter(specialist=specialist)
    return rows.filter(day__gte=since) if since is not None else rows


@dataclass
class CategoryGroup:
    category: ServiceCategory | None  # None: services without a category
    services: list[Service] = field(default_factory=list)


def services_by_category(*, business) -> list[CategoryGroup]:
    """The price list: every category in order (empty ones too), then uncategorised services."""
    groups = {c.pk: CategoryGroup(category=c) for c in categories(business=business)}
    loose = CategoryGroup(category=None)
    for service in services(business=business).order_by("name", "id"):
        groups.get(service.category_id, loose).services.append(service)
    result = list(groups.values())
    if loose.services:
        result.append(loose)
    return result
