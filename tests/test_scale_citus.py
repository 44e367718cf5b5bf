"""Could navbat's schema be distributed by business (Citus)? See docs/scale.md.

Every table is classified: DISTRIBUTED by ``business_id`` (every TenantModel, co-located),
REFERENCE (replicated to every node), or LOCAL (kept on the coordinator). Then the rules
Citus imposes are checked:

- a unique set (unique field, unique_together, UniqueConstraint, unique index, exclusion
  constraint) on a distributed table must include ``business_id``. A set that includes a
  foreign key to another distributed table passes too: that row and this one belong to one
  business, so the distribution step (docs/scale.md) prefixes ``business_id`` without
  changing what the constraint means. The primary key ``id`` gets the same treatment.
- foreign keys: distributed → distributed (co-located) or → reference; reference →
  reference; local → local or → reference. Anything else blocks.
- a table that is none of these (a model added without a decision) blocks.

Offenders not yet fixed are listed in KNOWN_BLOCKERS with what it takes; the test fails on
any offender not listed there, and on a listed one that is gone (keep the list exact).
"""

import pytest
from django.apps import apps
from django.db import connection, models
from django.test.utils import isolate_apps

from navbat.kit.tenancy import TenantModel

DISTRIBUTION_COLUMN = "business_id"

# Replicated to every node: small, read everywhere, joined with tenant rows.
REFERENCE = {
    "salons.Business": "the tenant table itself: every distributed row points at it",
    "accounts.User": "a person may work for several businesses; e-mail is unique platform-wide",
    "accounts.User_groups": "Django's permissions of users (reference, like users)",
    "accounts.User_user_permissions": "Django's permissions of users (reference, like users)",
    "accounts.ApiToken": (
        "tokens are looked up by hash on every API request before the business is known; "
        "few rows per business"
    ),
    "auth.Group": "Django's permissions: tiny and global",
    "auth.Group_permissions": "Django's permissions: tiny and global",
    "auth.Permission": "Django's permissions: tiny and global",
    "contenttypes.ContentType": "Django's registry of models: tiny and global",
}

# On the coordinator only: platform bookkeeping that is never joined with tenant rows.
LOCAL = {
    "sessions.Session": "login sessions, read by key on each request",
    "admin.LogEntry": "the platform operators' admin log",
    "accounts.PasswordResetRequest": "password-reset limits, keyed by address and e-mail digest",
    "django_tasks_database.DBTaskResult": (
        "the job queue: workers claim with SELECT … FOR UPDATE SKIP LOCKED on one node; "
        "jobs carry ids, never tenant joins"
    ),
    "kit.WorkerHeartbeat": "one row per worker process",
    "uzum.RateCounter": (
        "callback limits per address, connection and order for one minute; keyed by those, "
        "kept a day, never joined with tenant rows"
    ),
    "kit.PublicCounter": (
        "limits of the public booking pages and API per address and phone for a minute or "
        "an hour; keyed by those, purged daily, never joined with tenant rows"
    ),
    "uzum_sandbox.*": "the sandbox bank: a test double of Uzum Bank, off in production",
    "axes.*": "login throttling (django-axes), keyed by user name and address",
}

# Offender → what it takes. Each is also in docs/scale.md.
KNOWN_BLOCKERS = {
    "payments.PaymentLink: unique (token)": (
        "/pay/<token> is opened before the business is known: put the business's shard key "
        "in new tokens or keep a LOCAL token → business directory"
    ),
    "payments.PaymentLink: unique (code)": (
        "the Merchant API URL names the connection, so the business is known: make it "
        "unique (business, code)"
    ),
    "payments.PaymentOrder: unique (reference)": (
        "a random UUID known only with its link: make it unique (business, reference)"
    ),
    "payments.PaymentOrder: unique (provider, account_id, bank_order_id)": (
        "the bank's order id is global at the bank: add business to the constraint (an "
        "account belongs to one business) or keep a LOCAL bank-order directory"
    ),
    "uzum.Connection: unique (public_id)": (
        "callback URLs carry only the connection id: a LOCAL connection → business directory "
        "(one row per business), or the business in the URL"
    ),
    "salons.CheckoutPointCode: unique (code)": (
        "/q/<code> on a printed checkout QR is opened before the business is known: a shard "
        "key in new codes, or a LOCAL code → business directory"
    ),
    "salons.Location: unique (public_slug)": (
        "/book/<slug>/ is opened before the business is known: a LOCAL slug → business "
        "directory (one row per location)"
    ),
    "booking.OnlineBooking: unique (manage_token)": (
        "the client's booking page is opened before the business is known: a shard key in "
        "new tokens, or a LOCAL token → business directory"
    ),
    "booking.PhoneCheck: unique (nonce)": (
        "the code's nonce comes back without the business: make it unique (business, nonce) "
        "(the page knows its location)"
    ),
    "salons.Specialist_services: no business column": (
        "the implicit many-to-many table of specialists and services: an explicit through "
        "model with business"
    ),
}


def label(model) -> str:
    return model._meta.label


def kind(model) -> str | None:
    name = label(model)
    app_wide = f"{model._meta.app_label}.*"
    if name in REFERENCE:
        return "reference"
    if name in LOCAL or app_wide in LOCAL:
        return "local"
    if issubclass(model, TenantModel):
        return "distributed"
    return None


def all_models():
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.managed]


def unique_sets(model) -> list[tuple[str, ...]]:
    """Every set of fields the model declares unique, primary key aside."""
    sets = [(field.name,) for field in model._meta.local_fields if field.unique]
    sets = [s for s in sets if not model._meta.get_field(s[0]).primary_key]
    sets += [tuple(fields) for fields in model._meta.unique_together]
    sets += [
        tuple(constraint.fields)
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields
    ]
    return sets


def scoped_by_business(model, names) -> bool:
    """The set includes the business, or a reference to a row of a distributed table."""
    for name in names:
        field = model._meta.get_field(name)
        if field.name == "business" or field.column == DISTRIBUTION_COLUMN:
            return True
        linked = field.is_relation and (field.many_to_one or field.one_to_one)
        if linked and kind(field.related_model) == "distributed":
            return True
    return False


ALLOWED_LINKS = {
    ("distributed", "distributed"),
    ("distributed", "reference"),
    ("reference", "reference"),
    ("local", "reference"),
    ("local", "local"),
}


def offenders() -> list[str]:
    found = []
    for model in all_models():
        where = kind(model)
        if where is None:
            has_business = any(f.column == DISTRIBUTION_COLUMN for f in model._meta.local_fields)
            problem = "not classified" if has_business else "no business column"
            found.append(f"{label(model)}: {problem}")
            continue
        if where == "distributed":
            for names in unique_sets(model):
                if not scoped_by_business(model, names):
                    found.append(f"{label(model)}: unique ({', '.join(names)})")
        for field in model._meta.local_fields:
            if field.is_relation and field.related_model is not None:
                target = kind(field.related_model)
                if (where, target) not in ALLOWED_LINKS:
                    found.append(
                        f"{label(model)}.{field.name}: foreign key {where} → {target} "
                        f"({label(field.related_model)})"
                    )
    return sorted(found)


def test_every_table_can_be_distributed_by_business_or_is_listed():
    found = offenders()
    new = [offender for offender in found if offender not in KNOWN_BLOCKERS]
    gone = [offender for offender in KNOWN_BLOCKERS if offender not in found]
    assert not new, "would block distributing by business:\n" + "\n".join(new)
    assert not gone, "fixed (remove from KNOWN_BLOCKERS and docs/scale.md):\n" + "\n".join(gone)


def test_the_lists_name_real_tables():
    labels = {label(model) for model in all_models()}
    app_labels = {model._meta.app_label for model in all_models()}
    for name in [*REFERENCE, *LOCAL]:
        app, _, model = name.partition(".")
        if model == "*":
            # An app that may not be installed yet (django-axes) is allowed here.
            continue
        assert name in labels, name
        assert app in app_labels
    distributed = [label(m) for m in all_models() if kind(m) == "distributed"]
    assert "booking.Appointment" in distributed
    assert "salons.Business" not in distributed


def test_the_rules_catch_what_they_should():
    """The checker itself: a global unique key on a tenant table, a reference table pointing
    at a distributed one, and a table nobody classified are all reported."""

    with isolate_apps("navbat.kit"):

        class Token(TenantModel):
            value = models.CharField(max_length=10, unique=True)
            per_business = models.CharField(max_length=10)

            class Meta:
                app_label = "kit"
                constraints = [
                    models.UniqueConstraint(fields=["business", "per_business"], name="t_ok"),
                ]

    assert unique_sets(Token) == [("value",), ("business", "per_business")]
    assert not scoped_by_business(Token, ("value",))
    assert scoped_by_business(Token, ("business", "per_business"))
    from navbat.salons.models import WorkingHours

    # Scoped through the specialist (a distributed row): prefixed at distribution time.
    assert scoped_by_business(WorkingHours, ("specialist", "weekday"))
    assert ("reference", "distributed") not in ALLOWED_LINKS
    assert ("local", "distributed") not in ALLOWED_LINKS


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_has_no_unique_index_or_exclusion_the_models_do_not_show():
    """Constraints made by raw SQL in migrations (the no-overlap exclusion) follow the same
    rule, read from PostgreSQL's catalogue."""
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's catalogue")
    by_table = {m._meta.db_table: m for m in all_models() if kind(m) == "distributed"}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname,
                   array_agg(a.attname ORDER BY a.attnum)
            FROM pg_index x
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
            LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey)
            WHERE NOT x.indisprimary AND (x.indisunique OR c.contype = 'x')
            GROUP BY t.relname, i.relname
            """
        )
        rows = cursor.fetchall()
    found = []
    for table, _index, columns in rows:
        model = by_table.get(table)
        if model is None:
            continue
        fields = {f.column: f.name for f in model._meta.local_fields}
        names = tuple(fields.get(column, column) for column in columns)
        if not scoped_by_business(model, [n for n in names if n in fields.values()]):
            found.append(f"{label(model)}: unique ({', '.join(sorted(names))})")
    known = {
        # Unique indexes of the known blockers, as PostgreSQL names their columns.
        "payments.PaymentLink: unique (token)",
        "payments.PaymentLink: unique (code)",
        "payments.PaymentOrder: unique (reference)",
        "payments.PaymentOrder: unique (account_id, bank_order_id, provider)",
        "uzum.Connection: unique (public_id)",
        "salons.CheckoutPointCode: unique (code)",
        "salons.Location: unique (public_slug)",
        "booking.OnlineBooking: unique (manage_token)",
        "booking.PhoneCheck: unique (nonce)",
    }
    assert sorted(set(found) - known) == []
    # The no-overlap exclusion is read (and passes through its specialist).
    assert ("booking_appointment", "appointment_no_overlap") in {(t, i) for t, i, _ in rows}
    assert {"payments.PaymentLink: unique (token)"} <= set(found)
