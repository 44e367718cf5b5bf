"""Shared fixtures: two complete businesses (A and B) to test scoping between tenants."""

from dataclasses import dataclass, field
from datetime import time, timedelta

import pytest

from navbat.accounts.models import Role, User
from navbat.accounts.services import add_member, issue_api_token
from navbat.booking.services import LineInput, create_appointment
from navbat.finance.models import CashRegister, RegisterKind
from navbat.finance.services import ensure_default_registers
from navbat.kit.timeutil import local_datetime, local_today
from navbat.salons.checkout_points import create_checkout_point
from navbat.salons.models import (
    Client,
    Product,
    ScheduleException,
    Service,
    ServiceCategory,
    Specialist,
)
from navbat.salons.services import (
    add_specialist_member,
    create_business,
    create_location,
    set_weekly_schedule,
)
from tests import flush, seed

# Transactional tests end by deleting the rows left, not a flush of every table (tests/flush.py).
flush.install()

PASSWORD = "correct-horse-battery-9"
TZ = "Asia/Tashkent"


@dataclass
class Salon:
    """A business with everything a test needs, and handles to its rows."""

    business: object
    location: object
    owner: User
    admin: User
    specialist_user: User
    specialists: list
    category: object
    services: list
    products: list
    clients: list
    cash: CashRegister
    card: CashRegister
    checkout_point: object
    exception: object
    api_token: str
    appointments: list = field(default_factory=list)

    def at(self, hour: int, minute: int = 0, days: int = 1):
        """An aware datetime, ``days`` from today at a local wall-clock time."""
        return local_datetime(local_today(TZ) + timedelta(days=days), time(hour, minute), TZ)

    def book(self, *, specialist=None, hour=10, minute=0, days=1, lines=None, client=None):
        appointment = create_appointment(
            business=self.business,
            location=self.location,
            specialist=specialist or self.specialists[0],
            client=client or self.clients[0],
            starts_at=self.at(hour, minute, days),
            lines=lines or [LineInput(kind="service", item_id=self.services[0].pk)],
            author=self.owner,
        )
        self.appointments.append(appointment)
        return appointment


def build_salon(tag: str) -> Salon:
    business = create_business(name=f"Salon {tag}", slug=f"salon-{tag.lower()}", timezone=TZ)
    location = create_location(
        business=business,
        name=f"Location {tag}",
        address="Tashkent",
        opening_hours={str(d): ["08:00", "22:00"] for d in range(7)},
    )
    cash, card = ensure_default_registers(business=business, location=location)

    def person(role: str) -> User:
        return User.objects.create_user(
            email=f"{role}-{tag.lower()}@example.uz", password=PASSWORD, preferred_language="en"
        )

    owner, admin, specialist_user = person("owner"), person("admin"), person("spec")
    category = ServiceCategory.objects.create(business=business, name=f"Hair {tag}")
    services = [
        Service.objects.create(
            business=business,
            category=category,
            name=f"Haircut {tag}",
            price=10_000_000,
            duration_minutes=60,
            ikpu_code="10305001001000000",
            package_code="1501",
            vat_percent=12,
        ),
        Service.objects.create(
            business=business,
            category=category,
            name=f"Colouring {tag}",
            price=20_000_000,
            price_max=50_000_000,
            duration_minutes=30,
            ikpu_code="10305002001000000",
        ),
    ]
    products = [
        Product.objects.create(business=business, name=f"Shampoo {tag}", price=5_000_000),
    ]
    specialists = []
    for index in range(2):
        specialist = Specialist.objects.create(
            business=business,
            location=location,
            name=f"Specialist {tag}{index}",
            position="Stylist",
            sort_order=index,
        )
        specialist.services.set(services)
        set_weekly_schedule(
            specialist=specialist, week={d: (time(9, 0), time(20, 0)) for d in range(7)}
        )
        specialists.append(specialist)
    exception = ScheduleException.objects.create(
        business=business,
        specialist=specialists[1],
        day=local_today(TZ) + timedelta(days=30),
        is_day_off=True,
    )
    add_member(business=business, user=owner, role=Role.OWNER)
    add_member(business=business, user=admin, role=Role.ADMINISTRATOR)
    add_specialist_member(specialist=specialists[0], user=specialist_user)
    clients = [
        Client.objects.create(
            business=business,
            name=f"Client {tag}{i}",
            phone=f"+99890{'1' if tag == 'A' else '2'}00000{i}",
        )
        for i in range(2)
    ]
    checkout_point = create_checkout_point(business=business, location=location, name="Desk")
    _token, raw = issue_api_token(business=business, name="tests")
    salon = Salon(
        business=business,
        location=location,
        owner=owner,
        admin=admin,
        specialist_user=specialist_user,
        specialists=specialists,
        category=category,
        services=services,
        products=products,
        clients=clients,
        cash=cash,
        card=card,
        checkout_point=checkout_point,
        exception=exception,
        api_token=raw,
    )
    salon.book(hour=10)
    salon.book(specialist=specialists[1], hour=12, client=clients[1])
    return salon


@pytest.fixture(autouse=True)
def english_by_default(settings):
    """Tests assert English messages unless they choose a language (the product's default is
    Uzbek); requests without a language cookie and code outside requests both speak English."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    # Production's other hashers stay: old hashes are still read and upgraded on login.
    others = [path for path in settings.PASSWORD_HASHERS if "Argon2" not in path]
    settings.PASSWORD_HASHERS = ["tests.hashers.QuickArgon2PasswordHasher", *others]


@pytest.fixture(autouse=True)
def static_files_without_collectstatic(settings):
    """Pages render without `collectstatic` having run: plain static names here; the hashed
    names and WhiteNoise are tested over a real `navbat run` (tests/test_server.py)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# Tests that start navbat processes or flood the server, measured at 5-60 s each; marked
# slow here so `make test-fast` leaves them out without touching their modules.
STARTS_PROCESSES = (
    "tests/test_cli.py::test_navbat_run_",
    "tests/test_server.py::",
    "tests/test_worker_embedded.py::",
    "tests/test_production_demo.py::test_navbat_run_in_production_on_an_empty_database",
    "tests/test_production_demo.py::test_the_navbat_demo_command_refuses_in_production",
    "tests/test_production_files.py::",
    "tests/uzum/test_callbacks_flood.py::",
)


def pytest_collection_modifyitems(items):
    # Marks `make test-fast` leaves out: generated inputs by the hundred (modules named
    # *_fuzz.py) and tests that commit (each flushes every table after it, about 0.5 s on
    # PostgreSQL, and most start threads or processes).
    for item in items:
        if item.path.name.endswith("_fuzz.py"):
            item.add_marker(pytest.mark.fuzz)
        if item.nodeid.startswith(STARTS_PROCESSES):
            item.add_marker(pytest.mark.slow)
        if seed.is_transactional(item):
            item.add_marker(pytest.mark.transactional)
        if "client" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pages)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Before any of the test's fixtures, so before its transaction opens (tests/seed.py).
    current = seed.current()
    if current is not None:
        current.ready_for(item)


@pytest.fixture(scope="session")
def salon_seed(request, django_db_setup, django_db_blocker):
    """Salons A and B, built once per session (per xdist worker); see tests/seed.py."""
    # The test that first asks decides whether the seed is built now (not for a
    # transactional one); pytest offers no public handle on it from a session fixture.
    current = seed.start(django_db_blocker, build_salon, getattr(request, "_pyfuncitem", None))
    yield current
    seed.stop()


@pytest.fixture
def salon_a(request, salon_seed, db) -> Salon:
    return salon_seed.salon("A", request)


@pytest.fixture
def salon_b(request, salon_seed, db) -> Salon:
    return salon_seed.salon("B", request)


@pytest.fixture
def login(client):
    """Log a user in on the Django test client; pages answer in English unless a test says."""

    def _login(user, language: str = "en"):
        client.force_login(user)
        client.cookies["django_language"] = language
        return client

    return _login


@pytest.fixture
def register_kinds():
    return RegisterKind


# ----------------------------------------------------------------- Uzum Bank on the sandbox


@pytest.fixture
def bank_in_process(monkeypatch):
    """The sandbox bank answers navbat's Checkout client inside this process: real HTTP
    requests and answers, carried by httpx over WSGI instead of a socket."""
    import httpx
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from navbat.uzum import clients

    app = WSGIHandler()
    monkeypatch.setattr(clients, "transport_factory", lambda: httpx.WSGITransport(app=app))
    # The bank's request ends by closing "obsolete" connections, which on PostgreSQL would
    # close the test's own connection (the same thread, inside the test's transaction).
    monkeypatch.setattr(connection, "close_if_unusable_or_obsolete", lambda: None)
    return app


@pytest.fixture
def sandbox_terminal(db):
    """A terminal at the sandbox bank whose callbacks go to the connection's URLs."""
    from navbat.uzum_sandbox.models import Terminal

    def make(**fields):
        fields.setdefault("pay_types", ["ONE_STEP", "TWO_STEP"])
        fields.setdefault("owner", "tests-owner")
        return Terminal.objects.create(**fields)

    return make


@pytest.fixture
def connect_uzum(bank_in_process, sandbox_terminal, settings):
    """Connect a salon to a fresh sandbox terminal (keys checked by the bank, as in F1);
    returns the connection, with ``.sandbox_terminal`` for the test's own use."""
    from navbat.accounts.sandbox import sandbox_owner
    from navbat.uzum import services as uzum

    def connect(salon: Salon, *, auto_fiscal=False, **options):
        terminal = sandbox_terminal(
            auto_fiscal=auto_fiscal,
            merchant_name=salon.business.name,
            owner=sandbox_owner(salon.business.pk),
        )
        connection = uzum.connect(
            business=salon.business,
            environment="sandbox",
            terminal_id=str(terminal.terminal_id),
            api_key=terminal.api_key,
            auto_fiscal=auto_fiscal,
            tin="123456789" if auto_fiscal else "",
            author=salon.owner,
            **options,
        )
        root = settings.NAVBAT_PUBLIC_URL
        terminal.payment_callback_url = f"{root}/uzum/checkout/{connection.public_id}/callback"
        terminal.event_callback_url = f"{root}/uzum/checkout/{connection.public_id}/event"
        terminal.receipt_callback_url = f"{root}/uzum/checkout/{connection.public_id}/receipt"
        terminal.save()
        connection.sandbox_terminal = terminal
        return connection

    return connect
