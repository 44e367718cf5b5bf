"""The demo salon "Navbat Demo" in Tashkent: loaded once, on an empty database or by `navbat demo`.

Everything here is demo data; the login and the API token it prints open only it.
"""

import hashlib
import hmac
import random
import secrets
import uuid
from datetime import time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from navbat.accounts.models import ApiToken, Role, User, hash_token
from navbat.accounts.sandbox import sandbox_owner
from navbat.accounts.services import add_member
from navbat.booking import availability, online
from navbat.booking.models import BookingSettings, Status
from navbat.booking.services import LineInput, change_status, create_appointment, take_desk_payment
from navbat.finance.models import CashRegister, RegisterKind, Transaction
from navbat.finance.services import ensure_default_registers
from navbat.kit.sandbox_tokens import token_for
from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import local_datetime, local_today
from navbat.payments import payables
from navbat.payments import services as payments
from navbat.payments.checks import FIRST_CHECK_AFTER
from navbat.payments.links import return_url
from navbat.payments.models import Method, State
from navbat.payments.providers import BankView, active_account
from navbat.payments.states import transition
from navbat.salons.checkout_points import create_checkout_point
from navbat.salons.models import (
    Business,
    Client,
    Prepayment,
    PrepaymentAmount,
    Product,
    Service,
    ServiceCategory,
    Specialist,
)
from navbat.salons.services import create_business, create_location, set_weekly_schedule
from navbat.uzum import services as uzum
from navbat.uzum.models import Connection, Environment
from navbat.uzum.selectors import bank_addresses
from navbat.uzum.translate import card_kind_of
from navbat.uzum_sandbox import bank as sandbox_bank
from navbat.uzum_sandbox.checkout import CURRENCY, clean_register
from navbat.uzum_sandbox.control import FIRST_SERVICE_ID
from navbat.uzum_sandbox.models import (
    MerchantService,
    OperationState,
    OperationType,
    PayType,
    Terminal,
)
from navbat.uzum_sandbox.models import Order as SandboxOrder

DEMO_SLUG = "navbat-demo"
DEMO_EMAIL = "demo@navbat.uz"
DEMO_PASSWORD = "navbat-demo"  # noqa: S105 - demo data only, printed for newcomers
TZ = "Asia/Tashkent"
SOM = 100

CATALOG = {
    "Sochlar / Hair": [
        ("Ayollar soch turmagi / Women's haircut", 150_000, None, 60, "10305001001000000"),
        ("Erkaklar soch turmagi / Men's haircut", 80_000, None, 45, "10305001002000000"),
        ("Bolalar soch turmagi / Kids' haircut", 60_000, None, 30, "10305001003000000"),
        ("Soch bo'yash / Hair colouring", 350_000, 700_000, 120, "10305002001000000"),
        ("Ukladka / Styling", 120_000, None, 45, "10305003001000000"),
    ],
    "Tirnoqlar / Nails": [
        ("Manikyur / Manicure", 100_000, None, 60, "10305004001000000"),
        ("Pedikyur / Pedicure", 150_000, None, 75, "10305004002000000"),
        ("Gel-lak / Gel polish", 120_000, None, 60, "10305004003000000"),
    ],
    "Yuz va tana / Face and body": [
        ("Yuz tozalash / Facial cleansing", 250_000, None, 60, "10305005001000000"),
        ("Qosh dizayni / Brow design", 70_000, None, 30, "10305005002000000"),
        ("Massaj / Massage", 200_000, 300_000, 60, "10305006001000000"),
        ("Soqol olish / Beard trim", 50_000, None, 30, "10305001004000000"),
    ],
}

# Online booking (F6): what a service asks in advance when booked through the widget.
PREPAYMENT_PERCENT = 30
REQUIRED_PREPAYMENT = {
    "Soch bo'yash / Hair colouring",
    "Pedikyur / Pedicure",
    "Yuz tozalash / Facial cleansing",
    "Massaj / Massage",
}
OPTIONAL_PREPAYMENT = {
    "Ayollar soch turmagi / Women's haircut",
    "Ukladka / Styling",
    "Manikyur / Manicure",
    "Gel-lak / Gel polish",
}
# The demo's online bookings: (service, client's name, phone, paid at once?).
ONLINE_BOOKINGS = [
    ("Soch bo'yash / Hair colouring", "Dildora Umarova", "+998901112233", True),
    ("Pedikyur / Pedicure", "Nilufar Karimova", "+998935556677", False),
]
DEMO_CARD = "8600000000000018"  # the sandbox's Uzcard without 3-D Secure

PRODUCTS = [
    ("Shampun / Shampoo 250 ml", 95_000, "pcs", "03305001001000000"),
    ("Soch uchun niqob / Hair mask", 140_000, "pcs", "03305001002000000"),
    ("Tirnoq moyi / Cuticle oil", 45_000, "pcs", "03304001001000000"),
    ("Soqol moyi / Beard oil", 85_000, "pcs", "03305002001000000"),
    ("Yuz kremi / Face cream", 180_000, "pcs", "03304002001000000"),
    ("Soch laki / Hair spray", 70_000, "pcs", "03305003001000000"),
]

SPECIALISTS = [
    ("Dilnoza Karimova", "Stilist / Stylist", ["Sochlar / Hair"], range(0, 6)),
    ("Aziz Rahimov", "Barber", ["Sochlar / Hair", "Yuz va tana / Face and body"], range(1, 7)),
    ("Malika Yusupova", "Manikyur ustasi / Nail artist", ["Tirnoqlar / Nails"], range(0, 6)),
    (
        "Shahnoza Aliyeva",
        "Kosmetolog / Cosmetologist",
        ["Yuz va tana / Face and body"],
        [0, 1, 2, 3, 4, 6],
    ),
]

FIRST_NAMES = [
    "Nodira",
    "Sardor",
    "Gulnora",
    "Bekzod",
    "Madina",
    "Jasur",
    "Feruza",
    "Otabek",
    "Zarina",
    "Rustam",
    "Kamola",
    "Sherzod",
    "Laylo",
    "Timur",
    "Sevara",
]
LAST_NAMES = ["Toshmatova", "Ergashev", "Saidova", "Nazarov", "Qodirova", "Xolmatov"]
OPERATOR_CODES = ["90", "91", "93", "94", "97", "99", "33", "88"]


class DemoRefused(Exception):
    """Production mode never loads the demo: its owner's password and token are public."""


def demo_token() -> str:
    """The demo API token, the same on every run of this installation (derived, demo data only)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), b"navbat-demo-api-token", hashlib.sha256)
    return "nbt_demo_" + digest.hexdigest()[:40]


def demo_business() -> Business | None:
    return Business.objects.filter(slug=DEMO_SLUG).first()


def load_demo() -> dict:
    """Load the demo salon unless it is there already; return what a newcomer needs.

    Embedded mode only. Without the built-in sandbox (``NAVBAT_SANDBOX`` off) the demo is
    connected to no bank: a sandbox connection would point at pages that do not exist."""
    if not settings.EMBEDDED:
        raise DemoRefused("the demo salon is for the embedded mode only")
    business = demo_business()
    created = business is None
    if created:
        with transaction.atomic():
            business = _build()
    token = demo_token()
    ApiToken.objects.get_or_create(
        token_hash=hash_token(token),
        defaults={"business": business, "name": "Demo", "prefix": token[:12]},
    )
    connection = _ensure_uzum(business) if settings.NAVBAT_SANDBOX else None
    if created:
        with transaction.atomic():
            _book_online(business, connection)
    return {
        "created": created,
        "business": {"id": business.pk, "name": business.name},
        "login": {"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        "api_token": token,
        "public_url": settings.NAVBAT_PUBLIC_URL,
        "uzum": uzum_info(connection) if connection else None,
        # The control API's and the sandbox dashboard's key to the demo's own terminals.
        "sandbox_token": token_for(sandbox_owner(business.pk)) if settings.NAVBAT_SANDBOX else None,
    }


def uzum_info(connection: Connection) -> dict:
    """The demo's Uzum Bank connection as a newcomer or a script needs it (no API key: it
    is only ever shown masked)."""
    addresses = bank_addresses(public_id=connection.public_id)
    return {
        "connection_id": str(connection.public_id),
        "environment": connection.environment,
        "terminal_id": str(connection.terminal_id),
        "merchant_service_id": connection.merchant_service_id,
        "merchant_login": connection.merchant_login,
        "merchant_password": connection.merchant_password,
        "callback_urls": {
            "payment": addresses.payment,
            "event": addresses.event,
            "receipt": addresses.receipt,
        },
        "merchant_api_url": addresses.merchant_api,
    }


def _ensure_uzum(business: Business) -> Connection:
    """The demo salon is connected to the built-in sandbox once; later runs keep whatever the
    salon has (even a disconnect) and only follow a changed public URL."""
    connection = scoped(Connection, business).order_by("-is_active", "-connected_at", "-id").first()
    if connection is None:
        with transaction.atomic():
            connection = _connect_sandbox(business)
    elif connection.is_active and connection.environment == Environment.SANDBOX:
        _follow_public_url(connection)
        connection.refresh_from_db()
    return connection


def _connect_sandbox(business: Business) -> Connection:
    """Keys made the way Uzum's manager makes them at the sandbox bank, callbacks already
    pointing at this installation, then connected as the connect form would."""
    public_id = uuid.uuid4()
    addresses = bank_addresses(public_id=public_id)
    owner = sandbox_owner(business.pk)
    terminal = Terminal.objects.create(
        owner=owner,
        merchant_name=business.name,
        pay_types=[PayType.ONE_STEP, PayType.TWO_STEP],
        payment_callback_url=addresses.payment,
        event_callback_url=addresses.event,
        receipt_callback_url=addresses.receipt,
    )
    last = MerchantService.objects.aggregate(last=Max("service_id"))["last"]
    service_id = max(FIRST_SERVICE_ID, (last or 0) + 1)
    service = MerchantService.objects.create(
        owner=owner,
        service_id=service_id,
        login=f"merchant{service_id}",
        password=secrets.token_urlsafe(18),
        merchant_name=business.name,
        merchant_base_url=addresses.merchant_api.rstrip("/"),
        attribute_name="order",
    )
    # verify=False: `navbat demo` runs with no server up, so the sandbox cannot be asked over
    # HTTP; and there is nothing to doubt, the sandbox made these keys a moment ago.
    return uzum.connect(
        business=business,
        environment=Environment.SANDBOX,
        terminal_id=str(terminal.terminal_id),
        api_key=terminal.api_key,
        merchant_service_id=service.service_id,
        merchant_login=service.login,
        merchant_password=service.password,
        card_payments=True,
        app_payments=True,
        installments=True,
        author=User.objects.filter(email=DEMO_EMAIL).first(),
        verify=False,
        public_id=public_id,
    )


def _follow_public_url(connection: Connection) -> None:
    """Served on another address than when it was loaded (``NAVBAT_PUBLIC_URL``, the port
    of `navbat run`), the demo's sandbox terminal would call back the old one."""
    addresses = bank_addresses(public_id=connection.public_id)
    host = uzum.default_checkout_url(Environment.SANDBOX)
    owner = sandbox_owner(connection.business_id)
    with transaction.atomic():
        # Loaded before sandbox rows had owners: the demo's own become the demo's.
        Terminal.objects.filter(terminal_id=connection.terminal_id, owner="").update(owner=owner)
        MerchantService.objects.filter(service_id=connection.merchant_service_id, owner="").update(
            owner=owner
        )
        Terminal.objects.filter(terminal_id=connection.terminal_id).exclude(
            payment_callback_url=addresses.payment,
            event_callback_url=addresses.event,
            receipt_callback_url=addresses.receipt,
        ).update(
            payment_callback_url=addresses.payment,
            event_callback_url=addresses.event,
            receipt_callback_url=addresses.receipt,
        )
        if connection.merchant_service_id:
            merchant_base_url = addresses.merchant_api.rstrip("/")
            MerchantService.objects.filter(service_id=connection.merchant_service_id).exclude(
                merchant_base_url=merchant_base_url
            ).update(merchant_base_url=merchant_base_url)
        if connection.checkout_base_url != host:
            Connection.objects.filter(pk=connection.pk).update(checkout_base_url=host)


def _build() -> Business:
    rng = random.Random(20261123)  # noqa: S311 - demo data, reproducible
    business = create_business(name="Navbat Demo", slug=DEMO_SLUG, timezone=TZ)
    week = {str(d): ["09:00", "21:00"] for d in range(7)}
    location = create_location(
        business=business,
        name="Navbat Demo — Chilonzor",
        address="Toshkent, Chilonzor tumani, Bunyodkor ko'chasi, 12",
        opening_hours=week,
    )
    for name in ("Kassa 1 / Desk 1", "Kassa 2 / Desk 2"):
        create_checkout_point(business=business, location=location, name=name)
    ensure_default_registers(business=business, location=location)

    owner = User.objects.filter(email=DEMO_EMAIL).first() or User.objects.create_user(
        email=DEMO_EMAIL, password=DEMO_PASSWORD, full_name="Demo Owner", preferred_language="uz"
    )
    add_member(business=business, user=owner, role=Role.OWNER)

    BookingSettings.objects.create(
        business=business,
        location=location,
        enabled=True,
        min_notice_minutes=60,
        hold_minutes=15,
    )

    services_by_category: dict[str, list[Service]] = {}
    for position, (category_name, rows) in enumerate(CATALOG.items()):
        category = ServiceCategory.objects.create(
            business=business, name=category_name, position=position
        )
        services_by_category[category_name] = [
            Service.objects.create(
                business=business,
                category=category,
                name=name,
                price=price * SOM,
                price_max=price_max * SOM if price_max else None,
                duration_minutes=minutes,
                ikpu_code=ikpu,
                package_code="1501",
                vat_percent=12,
                **_prepayment_rule(name),
            )
            for name, price, price_max, minutes, ikpu in rows
        ]
    products = [
        Product.objects.create(
            business=business,
            name=name,
            price=price * SOM,
            unit=unit,
            ikpu_code=ikpu,
            package_code="1501",
            vat_percent=12,
        )
        for name, price, unit, ikpu in PRODUCTS
    ]

    specialists = []
    for order, (name, position, categories, weekdays) in enumerate(SPECIALISTS):
        specialist = Specialist.objects.create(
            business=business, location=location, name=name, position=position, sort_order=order
        )
        specialist.services.set([s for c in categories for s in services_by_category[c]])
        set_weekly_schedule(
            specialist=specialist,
            week={d: (time(9, 0), time(20, 0)) if d in weekdays else None for d in range(7)},
        )
        specialists.append(specialist)

    clients = []
    for index in range(30):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 7) % len(LAST_NAMES)]
        phone = f"+998{OPERATOR_CODES[index % len(OPERATOR_CODES)]}{1234500 + index * 37:07d}"
        clients.append(
            Client.objects.create(
                business=business,
                name=f"{first} {last}",
                phone=phone,
                preferred_language=["uz", "ru", "en"][index % 3],
            )
        )

    _book_week(business, location, specialists, products, clients, owner, rng)
    return business


def _book_week(business, location, specialists, products, clients, owner, rng) -> None:
    today = local_today(TZ)
    cash = CashRegister.objects.get(business=business, kind=RegisterKind.CASH)
    card = CashRegister.objects.get(business=business, kind=RegisterKind.CARD_TERMINAL)
    for offset in range(-3, 4):
        day = today + timedelta(days=offset)
        for specialist in specialists:
            if not specialist.hours.filter(weekday=day.weekday()).exists():
                continue
            offered = list(specialist.services.all())
            clock = time(9, 30) if (offset + specialist.sort_order) % 2 else time(10, 0)
            for _slot in range(3):
                service = rng.choice(offered)
                lines = [LineInput(kind="service", item_id=service.pk)]
                if rng.random() < 0.3:
                    lines.append(LineInput(kind="product", item_id=rng.choice(products).pk))
                starts = local_datetime(day, clock, TZ)
                appointment = create_appointment(
                    business=business,
                    location=location,
                    specialist=specialist,
                    client=rng.choice(clients),
                    starts_at=starts,
                    lines=lines,
                    author=owner,
                )
                _settle(appointment, offset, rng, cash, card, owner)
                gap = rng.choice([30, 60, 90])
                after = appointment.ends_at + timedelta(minutes=gap)
                clock = after.astimezone(starts.tzinfo).time().replace(second=0, microsecond=0)
                if clock >= time(17, 0):
                    break


def _settle(appointment, offset, rng, cash, card, owner) -> None:
    """Give past, present and future visits the states a real week has."""
    roll = rng.random()
    if offset < 0:
        if roll < 0.15:
            change_status(appointment=appointment, status=Status.NO_SHOW)
        elif roll < 0.25:
            change_status(appointment=appointment, status=Status.CANCELLED)
        else:
            change_status(appointment=appointment, status=Status.COMPLETED)
            payment = take_desk_payment(
                appointment=appointment,
                register_id=rng.choice([cash, card]).pk,
                amount=appointment.total,
                author=owner,
            )
            # A past visit was paid when it ended, not when the demo was loaded.
            Transaction.objects.filter(pk=payment.pk).update(occurred_at=appointment.ends_at)
    elif offset == 0:
        status = rng.choice([Status.BOOKED, Status.CONFIRMED, Status.ARRIVED])
        change_status(appointment=appointment, status=status)
        if status == Status.ARRIVED and appointment.total > 100_000:
            take_desk_payment(
                appointment=appointment,
                register_id=cash.pk,
                amount=appointment.total // 2,
                author=owner,
            )
    else:
        change_status(
            appointment=appointment,
            status=rng.choice([Status.BOOKED, Status.BOOKED, Status.CONFIRMED, Status.CANCELLED]),
        )


# --- Online booking (F6) ------------------------------------------------------------------------


def _prepayment_rule(service_name: str) -> dict:
    if service_name in REQUIRED_PREPAYMENT:
        mode = Prepayment.REQUIRED
    elif service_name in OPTIONAL_PREPAYMENT:
        mode = Prepayment.OPTIONAL
    else:
        return {}
    return {
        "prepayment": mode,
        "prepayment_amount": PrepaymentAmount.PERCENT,
        "prepayment_value": PREPAYMENT_PERCENT,
    }


def _book_online(business: Business, connection: Connection | None) -> None:
    """Clients who booked themselves through the widget in the coming days: one paid the
    prepayment by card on the sandbox bank, one has not yet (the time is held for them).
    Without a bank nothing is asked in advance: both are simply booked online."""
    location = scoped(BookingSettings, business).select_related("location").get().location
    today = local_today(TZ)
    for offset, (service_name, name, phone, pays) in enumerate(ONLINE_BOOKINGS, start=1):
        service = scoped(Service, business).get(name=service_name)
        start = _last_free_time(location, service, first=today + timedelta(days=offset))
        if start is None:
            continue
        booked = online.book_online(
            location=location,
            service_ids=[service.pk],
            specialist_id=None,
            starts_at=start,
            name=name,
            phone=phone,
            comment="",
            language="uz",
        )
        if pays and booked.link is not None and connection is not None:
            _pay_at_the_sandbox(business=business, link=booked.link, connection=connection)


def _last_free_time(location, service: Service, *, first):
    """The widget's last free time for ``service`` on ``first`` or one of the next days
    (evenings are free: the desk's bookings of the demo week end by 19:00)."""
    chosen = online.choice(location=location, service_ids=[service.pk], specialist_id=None)
    for day in (first + timedelta(days=n) for n in range(4)):
        times = availability.free_times(
            location=location,
            rules=chosen.rules,
            specialists=chosen.specialists,
            duration=chosen.duration,
            day=day,
        )
        if times:
            return times[-1].start
    return None


def _pay_at_the_sandbox(*, business: Business, link, connection: Connection) -> None:
    """The client pays what the link asks with a test card at the sandbox bank, as the
    bank's page would take it, and the payment is recorded from the sandbox's order as the
    bank's status call would report it. Nothing goes over HTTP: `navbat demo` runs with no
    server up (and in one transaction, where no bank call is allowed); the sandbox is this
    process's own, and the order recorded is exactly the one it holds."""
    view = payables.describe(business=business, kind=link.payable_kind, payable_id=link.payable_id)
    account = active_account(business=business)
    now = timezone.now()
    order = payments.new_order(
        link=link,
        view=view,
        account=account,
        method=Method.CARD,
        amount=view.due,
        language="uz",
        expires_at=now + timedelta(seconds=account.session_timeout_secs),
        next_check_at=now + FIRST_CHECK_AFTER,
    )
    terminal = Terminal.objects.get(terminal_id=connection.terminal_id)
    fields = clean_register(
        {
            "amount": order.amount,
            "clientId": str(order.client_id),
            "currency": CURRENCY,
            "orderNumber": order.reference,
            "paymentDetails": view.headline[:1024],
            "viewType": "REDIRECT",
            "successUrl": return_url(link.token).replace("REFERENCE", order.reference),
            "failureUrl": return_url(link.token, failed=True).replace("REFERENCE", order.reference),
            "paymentParams": {"payType": PayType.ONE_STEP},
            "sessionTimeoutSecs": min(max(connection.session_timeout_secs, 600), 1800),
        },
        "uz-UZ",
    )
    bank_order = sandbox_bank.register(terminal=terminal, fields=fields)
    sandbox_bank.pay(order_id=bank_order.order_id, card_number=DEMO_CARD)
    order.bank_order_id = str(bank_order.order_id)
    transition(order=order, to=State.PENDING)
    paid: SandboxOrder = SandboxOrder.objects.get(pk=bank_order.pk)
    completion = paid.operations.get(
        operation_type=OperationType.COMPLETE, state=OperationState.SUCCESS
    )
    payments.apply_bank_view(
        order_id=order.pk,
        view=BankView(
            state=State.PAID,
            bank_order_id=str(paid.order_id),
            reference=paid.order_number,
            amount=paid.amount,
            paid_amount=paid.completed_amount,
            card_kind=card_kind_of(paid.ips),
            card_scheme=paid.ips,
            masked_pan=paid.masked_pan,
            rrn=completion.rrn,
            paid_at=completion.done_at,
        ),
    )
