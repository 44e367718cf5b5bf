"""The arrows of docs/ARCHITECTURE.md, as `make lint` checks them: the import contracts
(lint-imports, pyproject.toml) and tools/check_arrows.py (templates, model relations) pass
on the tree, and each fails on a planted violation, so the checks are shown to bite."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from django.apps import apps
from django.db import models

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONTRACTS = 6


def _load_tool():
    spec = importlib.util.spec_from_file_location("check_arrows", REPO / "tools/check_arrows.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_arrows"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


check_arrows = _load_tool()


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """lint-imports on the navbat package found under ``root`` (a copy, or the tree)."""
    return subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def check_templates(root: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [sys.executable, str(REPO / "tools/check_arrows.py"), "--root", str(root)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "NAVBAT_VAR_DIR": str(tmp_path / "var")},
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- imports -----------------------------------------------------------------------------


def test_the_tree_keeps_every_import_contract():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {CONTRACTS} kept, 0 broken." in result.stdout


PLANTED = [
    # (where, what it imports, the contract that breaks, the line lint-imports prints)
    (
        "salons/planted.py",
        "from navbat.booking.selectors import appointments",
        "Arrows point down: each room imports only the rooms below it",
        "navbat.salons.planted -> navbat.booking.selectors (l.1)",
    ),
    (
        "payments/planted.py",
        "from navbat.booking.models import Appointment",
        "Arrows point down: each room imports only the rooms below it",
        "navbat.payments.planted -> navbat.booking.models (l.1)",
    ),
    (
        "finance/planted.py",
        "from navbat.payments.models import PaymentOrder",
        "Arrows point down: each room imports only the rooms below it",
        "navbat.finance.planted -> navbat.payments.models (l.1)",
    ),
    (
        "booking/planted.py",
        "from navbat.uzum.models import Connection",
        "Arrows point down: each room imports only the rooms below it",
        "navbat.booking.planted -> navbat.uzum.models (l.1)",
    ),
    (
        "uzum_sandbox/planted.py",
        "from navbat.payments.models import PaymentOrder",
        "The sandbox bank imports nothing of navbat but kit",
        "navbat.uzum_sandbox.planted -> navbat.payments.models (l.1)",
    ),
    (
        "api/planted.py",
        "from navbat.uzum.checkout import CheckoutClient",
        "Nothing but navbat.uzum imports the Checkout client",
        "navbat.api.planted -> navbat.uzum.checkout",
    ),
]


def test_planted_imports_break_lint(tmp_path):
    """All plants in one copy of the tree (one lint-imports run): each is reported under
    the contract it breaks."""
    shutil.copytree(
        REPO / "navbat",
        tmp_path / "navbat",
        ignore=shutil.ignore_patterns("__pycache__", "static", "locale", "templates", "*.mo"),
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    for where, line, _, _ in PLANTED:
        (tmp_path / "navbat" / where).write_text(line + "\n", encoding="utf-8")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts", 1)[1]
    sections = {}
    for title in {contract for _, _, contract, _ in PLANTED}:
        start = broken.index(title + "\n---")
        ends = [broken.find(other + "\n---", start + 1) for _, _, other, _ in PLANTED]
        sections[title] = broken[start : min([e for e in ends if e > start] or [len(broken)])]
    for _, _, contract, reported in PLANTED:
        assert reported in sections[contract], (contract, reported)
    assert f"Contracts: {CONTRACTS - 4} kept, 4 broken." in result.stdout


def test_payments_and_finance_import_nothing_above_them():
    """What the first arrow test held (payments and finance import nothing above them),
    now one reading of the contracts lint-imports enforces."""
    arrows = check_arrows.load_arrows()
    above = {
        "payments": ("booking", "uzum", "uzum_sandbox", "api", "cli", "demo", "urls"),
        "finance": ("payments", "booking", "uzum", "uzum_sandbox", "api", "cli", "demo"),
    }
    allowed = {(room, up) for room, ups in above.items() for up in ups if arrows.allows(room, up)}
    assert allowed == set()
    assert arrows.allows("payments", "finance") and arrows.allows("finance", "salons")
    assert not arrows.allows("uzum", "booking") and not arrows.allows("booking", "uzum")
    assert [sorted(members) for members, _ in arrows.layers][1:] == [
        ["api"],
        ["booking", "uzum"],
        ["payments"],
        ["finance"],
        ["salons"],
        ["accounts"],
        ["kit"],
    ]


# --- templates and model relations --------------------------------------------------------


def test_the_tree_keeps_the_arrows_in_templates_and_relations():
    arrows = check_arrows.load_arrows()
    assert check_arrows.template_violations(REPO / "navbat", arrows) == []
    assert check_arrows.relation_violations(arrows) == []


def test_planted_cross_app_urls_in_templates_break_lint(tmp_path):
    root = tmp_path / "tree"
    finance = root / "finance" / "templates" / "finance"
    finance.mkdir(parents=True)
    (finance / "planted.html").write_text(
        "{% load i18n %}\n<a href=\"{% url 'payments:list' %}\">{% translate 'Online' %}</a>\n",
        encoding="utf-8",
    )
    booking = root / "booking" / "templates" / "booking"
    booking.mkdir(parents=True)
    (booking / "planted.html").write_text(
        '<a href="/integrations/uzum/">Uzum</a>\n'
        "<a href=\"{% url 'salons:clients' %}\">fine: salons are below booking</a>\n",
        encoding="utf-8",
    )
    top = root / "templates"  # project-level templates may name anything
    top.mkdir()
    (top / "base.html").write_text("<a href=\"{% url 'uzum:overview' %}\">ok</a>\n")

    result = check_templates(root, tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "booking/templates/booking/planted.html:1: booking hard-codes uzum's path "
        "'/integrations/uzum/'",
        "finance/templates/finance/planted.html:2: finance names payments's URL 'payments:list'",
        "2 arrow(s) point up: see docs/ARCHITECTURE.md",
    ]


def test_the_check_passes_a_tree_that_keeps_the_arrows(tmp_path):
    salons = tmp_path / "tree" / "salons" / "templates" / "salons"
    salons.mkdir(parents=True)
    (salons / "fine.html").write_text("<a href=\"{% url 'accounts:login' %}\">in</a>\n")
    result = check_templates(tmp_path / "tree", tmp_path)
    assert (result.returncode, result.stdout) == (
        0,
        "Templates and model relations keep the arrows.\n",
    )


def test_a_planted_upward_relation_is_found():
    """A foreign key from a lower room to a higher one (what accounts.Membership.specialist
    was) is an arrow pointing up."""
    arrows = check_arrows.load_arrows()

    class PlantedUpward(models.Model):
        appointment = models.ForeignKey("booking.Appointment", on_delete=models.CASCADE)

        class Meta:
            app_label = "accounts"

    try:
        found = check_arrows.relation_violations(arrows)
    finally:
        del apps.all_models["accounts"]["plantedupward"]
        apps.clear_cache()
    assert found == ["accounts.PlantedUpward.appointment: accounts points at booking.Appointment"]
