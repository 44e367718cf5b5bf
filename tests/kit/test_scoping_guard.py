"""Guard: views, selectors and the API read tenant data only through kit.tenancy.

``Client.objects.filter(...)`` in a view is one forgotten ``business=`` away from showing
one salon's clients to another. Those modules must call ``scoped``/``get_scoped_or_404``.
Services (writes) and models are not scanned: they receive rows already scoped.
"""

import ast
from pathlib import Path

from django.apps import apps

import navbat
from navbat.kit.tenancy import TenantModel

ROOT = Path(navbat.__file__).resolve().parent
PROJECT = ROOT.parent
MANAGERS = {"objects", "_default_manager", "_base_manager"}
PATTERNS = [
    "**/views.py",
    "**/views/*.py",
    "**/selectors.py",
    "**/selectors/*.py",
    "api/**/*.py",
]


def tenant_model_names() -> set[str]:
    return {
        model.__name__
        for model in apps.get_models(include_auto_created=False)
        if issubclass(model, TenantModel) and not model._meta.abstract
    }


def guarded_files() -> list[Path]:
    found: set[Path] = set()
    for pattern in PATTERNS:
        found.update(
            path for path in ROOT.glob(pattern) if "migrations" not in path.parts and path.is_file()
        )
    return sorted(found)


def violations_in(source: str, filename: str, tenant_names: set[str]) -> list[str]:
    """``file:line: Model.objects`` for every direct manager use of a tenant model."""
    tree = ast.parse(source, filename=filename)
    aliases = {name: name for name in tenant_names}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in tenant_names and alias.asname:
                    aliases[alias.asname] = alias.name
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr in MANAGERS):
            continue
        owner = node.value
        name = (
            owner.id
            if isinstance(owner, ast.Name)
            else owner.attr
            if isinstance(owner, ast.Attribute)
            else None
        )
        if name in aliases:
            found.append((node.lineno, f"{filename}:{node.lineno}: {aliases[name]}.{node.attr}"))
    return [text for _line, text in sorted(found)]


def test_the_guard_knows_the_tenant_models():
    names = tenant_model_names()
    # A sanity floor, so an empty registry can never make the guard pass by itself.
    assert {"Client", "Service", "Appointment", "Membership", "ApiToken"} <= names
    assert "Business" not in names
    assert "User" not in names


def test_the_guard_scans_the_modules_it_should():
    files = {path.relative_to(ROOT).as_posix() for path in guarded_files()}
    assert {"booking/views.py", "booking/selectors.py", "salons/views.py"} <= files
    assert "kit/tenancy.py" not in files
    assert not any(name.endswith("services.py") for name in files)


def test_the_guard_catches_direct_manager_use():
    source = (
        "from navbat.salons.models import Client, Client as C\n"
        "from navbat.salons import models\n"
        "a = Client.objects.filter(pk=1)\n"
        "b = C.objects.all()\n"
        "c = models.Service._default_manager.all()\n"
        "d = scoped(Client, business)\n"
        "# Client.objects in a comment is fine\n"
        "e = 'Client.objects in a string is fine'\n"
        "f = Business.objects.get(slug='x')\n"
    )
    assert violations_in(source, "x.py", {"Client", "Service"}) == [
        "x.py:3: Client.objects",
        "x.py:4: Client.objects",
        "x.py:5: Service._default_manager",
    ]


def test_views_selectors_and_api_use_only_scoped_queries():
    names = tenant_model_names()
    found = []
    for path in guarded_files():
        relative = path.relative_to(PROJECT).as_posix()
        found.extend(violations_in(path.read_text(encoding="utf-8"), relative, names))
    assert found == [], (
        "Query tenant models through navbat.kit.tenancy.scoped/get_scoped_or_404, "
        "not Model.objects:\n" + "\n".join(found)
    )
