"""Sandbox terminals and services made before the sandbox had owners go to the business
whose built-in sandbox connection uses them.

Before owners existed, an unowned sandbox row was anyone's; since then it is nobody's, so a
salon connected to the sandbox before the upgrade lost its terminal (only the demo's rows
were adopted, by ``navbat demo``). The mapping lives on navbat's side: a ``Connection`` of
the sandbox environment stores the terminal id and the Merchant API service id, and the
sandbox names a business ``business-<id>`` (``accounts.sandbox.sandbox_owner``, frozen here
as it was when this migration was written). So the migration is uzum's: it reads its own
connections and writes the sandbox's two owner columns through the historical models
(``apps.get_model``), which is no runtime import, so the sandbox still imports only ``kit``
and knows owners only as opaque strings.

A row is given only when exactly one business's sandbox connections point at it (a row two
businesses typed in stays nobody's) and only when it has no owner yet. Where the sandbox app
is not installed there is nothing to adopt. Reversing leaves the owners as they are.
"""

from django.apps import apps as installed_apps
from django.db import migrations

SANDBOX_APP = "navbat.uzum_sandbox"


def _owner(business_id: int) -> str:
    return f"business-{int(business_id)}"


def _sole_business(pairs) -> dict:
    """{key: business id} for the keys exactly one business uses."""
    users: dict = {}
    for key, business_id in pairs:
        if key is not None:
            users.setdefault(key, set()).add(business_id)
    return {key: next(iter(ids)) for key, ids in users.items() if len(ids) == 1}


def adopt_sandbox_rows(apps, schema_editor):
    try:
        Terminal = apps.get_model("uzum_sandbox", "Terminal")
        MerchantService = apps.get_model("uzum_sandbox", "MerchantService")
    except LookupError:
        return
    Connection = apps.get_model("uzum", "Connection")
    sandbox = Connection.objects.filter(environment="sandbox")
    terminals = _sole_business(sandbox.values_list("terminal_id", "business_id"))
    services = _sole_business(sandbox.values_list("merchant_service_id", "business_id"))
    for terminal_id, business_id in terminals.items():
        Terminal.objects.filter(terminal_id=terminal_id, owner="").update(owner=_owner(business_id))
    for service_id, business_id in services.items():
        MerchantService.objects.filter(service_id=service_id, owner="").update(
            owner=_owner(business_id)
        )


class Migration(migrations.Migration):
    dependencies = [("uzum", "0002_merchant_transactions")]
    if installed_apps.is_installed(SANDBOX_APP):
        # The owner columns must exist; without the app there is no such migration.
        dependencies.append(("uzum_sandbox", "0002_terminal_service_owner_and_refused_callbacks"))

    operations = [migrations.RunPython(adopt_sandbox_rows, migrations.RunPython.noop)]
