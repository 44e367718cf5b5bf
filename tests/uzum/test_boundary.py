"""No Uzum type leaks out of navbat/uzum/: nothing else in navbat imports it."""

import ast
from pathlib import Path

import navbat

ROOT = Path(navbat.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


# The top of the house (DESIGN.md "Rooms") may wire the adapter in: the demo connects the
# demo salon to the sandbox.
TOP_LEVEL = {"demo.py", "cli.py"}


def test_only_navbat_uzum_imports_navbat_uzum():
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] == "uzum" or str(relative) in TOP_LEVEL:
            continue
        for name in imported_modules(path):
            if name == "navbat.uzum" or name.startswith("navbat.uzum."):
                offenders.append(f"{relative}: {name}")
    assert offenders == []


def test_the_checkout_client_needs_nothing_of_navbat():
    """The client is plain Python + httpx: no Django, no other navbat app."""
    for path in (ROOT / "uzum" / "checkout").rglob("*.py"):
        for name in imported_modules(path):
            assert not name.startswith(("django", "navbat")), f"{path.name}: {name}"


# Uzum's words (uzum-bank.md): none of them may appear in the provider-neutral rooms.
UZUM_WORDS = (
    "orderId",
    "merchantOrderId",
    "orderNumber",
    "paymentRedirectUrl",
    "getOrderStatus",
    "operationType",
    "transId",
    "paymentSource",
    "serviceId",
    "X-Terminal-Id",
    "X-API-Key",
    '"ips"',
    "ips=",
)
NEUTRAL_ROOMS = ("payments", "finance", "booking", "salons", "accounts", "api", "kit")


def test_no_uzum_field_name_outside_the_adapter():
    offenders = []
    for room in NEUTRAL_ROOMS:
        for path in (ROOT / room).rglob("*"):
            if path.suffix not in (".py", ".html"):
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(ROOT)}: {w}" for w in UZUM_WORDS if w in text]
    assert offenders == []


# Which rooms payments and finance (and every other room) may import is checked by the
# import contracts in pyproject.toml: tests/test_arrows.py.
