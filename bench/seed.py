"""Prepares navbat's bench database (run in its own process, configured by the environment):

    python bench/seed.py prepare          migrate, load the demo, print what the load needs (JSON)
    python bench/seed.py history N        grow the demo salon's past to N appointments

History rows are written by one SQL statement per batch (documents, appointments and their
lines together), in the past before the demo's week, without overlaps, so the journal's day
and the constraints are the real ones.
"""

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.navbat_settings")
os.environ.setdefault("NAVBAT_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from navbat.accounts.models import User  # noqa: E402
from navbat.booking import selectors as booking  # noqa: E402
from navbat.booking.models import Appointment  # noqa: E402
from navbat.demo import DEMO_EMAIL, demo_business, load_demo  # noqa: E402
from navbat.kit.tenancy import scoped  # noqa: E402
from navbat.payments.services import link_for  # noqa: E402
from navbat.salons.models import Client as SalonClient  # noqa: E402
from navbat.salons.models import Service, Specialist  # noqa: E402
from navbat.uzum.models import Connection  # noqa: E402

HISTORY_TAG = "bench-history-"
BATCH = 50_000


def prepare() -> dict:
    call_command("migrate", verbosity=0)
    info = load_demo()
    business = demo_business()
    connection_row = Connection.objects.get(business=business, is_active=True)
    # An appointment still to pay, so the Quick Payment page offers the card and the app.
    link = None
    for appointment in scoped(Appointment, business).order_by("-starts_at"):
        money = booking.money_of(booking.appointments(business=business).get(pk=appointment.pk))
        if appointment.status != "cancelled" and money.due > 0:
            link = link_for(business=business, kind="appointment", payable_id=appointment.pk)
            break
    assert link is not None, "the demo has no appointment left to pay"
    http = Client()
    http.force_login(User.objects.get(email=DEMO_EMAIL))
    return {
        "business_id": business.pk,
        "api_token": info["api_token"],
        "connection_id": str(connection_row.public_id),
        "merchant_service_id": connection_row.merchant_service_id,
        "merchant_login": connection_row.merchant_login,
        "merchant_password": connection_row.merchant_password,
        "payment_attribute": connection_row.payment_attribute,
        "link_token": link.token,
        "link_code": link.code,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "session": http.cookies[settings.SESSION_COOKIE_NAME].value,
        "history": history_count(business),
    }


def history_count(business) -> int:
    return scoped(Appointment, business).filter(comment__startswith=HISTORY_TAG).count()


SQL = """
WITH docs AS (
    INSERT INTO finance_saledocument (business_id, kind, title, client_id, amount_due, created_at)
    SELECT %(business)s, 'visit', %(tag)s || g, (%(clients)s::bigint[])[1 + g %% %(n_clients)s],
           %(price)s, now()
    FROM generate_series(%(first)s, %(last)s) AS g
    RETURNING id, client_id, substring(title from %(cut)s)::bigint AS g
), visits AS (
    INSERT INTO booking_appointment (business_id, location_id, specialist_id, client_id,
        starts_at, ends_at, status, occupies_time, comment, total, document_id, created_at,
        updated_at)
    SELECT %(business)s,
           (%(locations)s::bigint[])[1 + g %% %(n_specialists)s],
           (%(specialists)s::bigint[])[1 + g %% %(n_specialists)s],
           client_id,
           %(before)s::timestamptz - (1 + g / %(n_specialists)s) * interval '1 hour',
           %(before)s::timestamptz - (1 + g / %(n_specialists)s) * interval '1 hour'
               + interval '45 minutes',
           'completed', true, %(tag)s || g, %(price)s, id, now(), now()
    FROM docs
    RETURNING id
)
INSERT INTO booking_appointmentline (business_id, appointment_id, kind, service_id, title,
    unit_price, quantity, discount_percent, position)
SELECT %(business)s, id, 'service', %(service)s, %(title)s, %(price)s, 1, 0, 0 FROM visits
"""


def grow_history(target: int) -> dict:
    business = demo_business()
    have = history_count(business)
    specialists = list(scoped(Specialist, business).order_by("pk").values_list("pk", "location_id"))
    clients = list(scoped(SalonClient, business).order_by("pk").values_list("pk", flat=True))
    service = scoped(Service, business).order_by("pk").first()
    # Before every demo appointment (the demo's week and the bench's own bookings).
    earliest = scoped(Appointment, business).exclude(comment__startswith=HISTORY_TAG)
    before = earliest.order_by("starts_at").values_list("starts_at", flat=True).first()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for first in range(have, target, BATCH):
            last = min(first + BATCH, target) - 1
            cursor.execute(
                SQL,
                {
                    "business": business.pk,
                    "tag": HISTORY_TAG,
                    "cut": len(HISTORY_TAG) + 1,
                    "clients": clients,
                    "n_clients": len(clients),
                    "specialists": [pk for pk, _loc in specialists],
                    "locations": [loc for _pk, loc in specialists],
                    "n_specialists": len(specialists),
                    "before": before,
                    "price": service.price,
                    "service": service.pk,
                    "title": service.name,
                    "first": first,
                    "last": last,
                },
            )
        cursor.execute("ANALYZE booking_appointment")
        cursor.execute("ANALYZE booking_appointmentline")
        cursor.execute("ANALYZE finance_saledocument")
    return {"history": history_count(business), "seconds": round(time.perf_counter() - started, 1)}


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "prepare":
        print(json.dumps(prepare()))
    elif command == "history":
        print(json.dumps(grow_history(int(sys.argv[2]))))
    else:
        raise SystemExit(__doc__)
