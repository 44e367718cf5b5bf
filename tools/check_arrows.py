"""The arrows that import-linter cannot see: templates and model relations.

`lint-imports` checks Python imports against the contracts in pyproject.toml. A template
that names another room's URL (``{% url 'payments:list' %}``, ``href="/integrations/…"``)
and a foreign key to another room's model are arrows too, invisible to it. This check
reads the same contracts (so there is one order of the rooms, in pyproject.toml) and
fails when a room's template or model points at a room it may not import.

    python tools/check_arrows.py [--root DIR]

``--root`` names a directory laid out like navbat/ (``<app>/templates/…``) to check
instead of the package, e.g. a copy with a planted violation. Project-level templates
(``navbat/templates``) may name anything: they are the top of the house. The one allowed
indirection in models is the business foreign key of every tenant row, which names
``settings.NAVBAT_TENANT_MODEL`` (the swappable pattern of ``AUTH_USER_MODEL``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOT_PACKAGE = "navbat"

# {% url 'ns:name' … %} or {% url "ns:name" … %}
URL_TAG = re.compile(r"""{%-?\s*url\s+(['"])(?P<name>[^'"]+)\1""")
# A path written out in an attribute: href="/integrations/uzum/".
PATH_ATTRIBUTE = re.compile(
    r"""\b(?:href|action|src|formaction|hx-get|hx-post|hx-put|hx-patch|hx-delete)\s*=\s*"""
    r"""(['"])(?P<path>/[^'"{]*)\1"""
)
NOT_ROUTES = ("/static/",)


@dataclass(frozen=True)
class Arrows:
    """Which top-level module of navbat may use which, as the import contracts say."""

    layers: list[tuple[frozenset[str], bool]]  # (members, independent), top first
    forbidden: list[tuple[frozenset[str], frozenset[str]]]  # (sources, forbidden)
    protected: list[tuple[str, frozenset[str]]]  # (protected room, allowed importers)

    def _layer(self, room: str) -> tuple[int, bool] | None:
        for index, (members, independent) in enumerate(self.layers):
            if room in members:
                return index, independent
        return None

    def allows(self, importer: str, imported: str) -> bool:
        if importer == imported:
            return True
        for sources, forbidden in self.forbidden:
            if importer in sources and imported in forbidden:
                return False
        for room, allowed in self.protected:
            if imported == room and importer not in allowed:
                return False
        upper, lower = self._layer(importer), self._layer(imported)
        if upper is None or lower is None:
            return True
        if lower[0] == upper[0]:
            return not upper[1]
        return lower[0] > upper[0]


def _room(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != ROOT_PACKAGE or len(parts) < 2:
        return None
    return parts[1]


def load_arrows(pyproject: Path = REPO / "pyproject.toml") -> Arrows:
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers, forbidden, protected = [], [], []
    for contract in config["contracts"]:
        if contract["type"] == "layers":
            for raw in contract["layers"]:
                independent = ":" not in raw
                names = re.split(r"[|:]", raw)
                layers.append((frozenset(n.strip() for n in names if n.strip()), independent))
        elif contract["type"] == "forbidden":
            sources = frozenset(filter(None, map(_room, contract["source_modules"])))
            banned = frozenset(filter(None, map(_room, contract["forbidden_modules"])))
            forbidden.append((sources, banned))
        elif contract["type"] == "protected":
            allowed = frozenset(filter(None, map(_room, contract["allowed_importers"])))
            for module in contract["protected_modules"]:
                # Deeper modules (the Checkout client) have no templates or URLs of their own.
                if module.count(".") == 1:
                    protected.append((_room(module), allowed))
    return Arrows(layers=layers, forbidden=forbidden, protected=protected)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "navbat.settings")
    import django

    django.setup()


def namespace_rooms() -> dict[str, str]:
    """URL namespace -> the room whose urls module defines it ('pay' -> 'payments')."""
    from django.urls import get_resolver

    rooms: dict[str, str] = {}

    def walk(resolver, prefix: str) -> None:
        for namespace, (_, child) in resolver.namespace_dict.items():
            full = f"{prefix}{namespace}"
            urlconf = child.urlconf_name
            # include() keeps the urls module (or its dotted name); admin and ninja a list.
            name = urlconf if isinstance(urlconf, str) else getattr(urlconf, "__name__", "")
            room = _room(name)
            if room:
                rooms[full] = room
            walk(child, f"{full}:")

    walk(get_resolver(), "")
    return rooms


def _room_of_path(path: str, rooms: dict[str, str]) -> str | None:
    from django.urls import Resolver404, resolve

    try:
        match = resolve(path.split("?")[0].split("#")[0])
    except Resolver404:
        return None
    if match.namespace:
        return rooms.get(match.namespace)
    # A URL with no namespace (the bank's callbacks, /healthz) belongs to its view's room.
    return _room(getattr(match.func, "__module__", "") or "")


def template_violations(root: Path, arrows: Arrows) -> list[str]:
    rooms = namespace_rooms()
    found: list[str] = []
    for template in sorted(root.glob("*/templates/**/*.html")):
        room = template.relative_to(root).parts[0]
        text = template.read_text(encoding="utf-8")
        where = template.relative_to(root)
        for match in URL_TAG.finditer(text):
            name = match["name"]
            target = rooms.get(name.rpartition(":")[0]) if ":" in name else None
            line = text.count("\n", 0, match.start()) + 1
            if target and not arrows.allows(room, target):
                found.append(f"{where}:{line}: {room} names {target}'s URL '{name}'")
        for match in PATH_ATTRIBUTE.finditer(text):
            path = match["path"]
            if path.startswith(NOT_ROUTES):
                continue
            target = _room_of_path(path, rooms)
            line = text.count("\n", 0, match.start()) + 1
            if target and not arrows.allows(room, target):
                found.append(f"{where}:{line}: {room} hard-codes {target}'s path '{path}'")
    return found


def relation_violations(arrows: Arrows) -> list[str]:
    from django.apps import apps
    from django.conf import settings

    found: list[str] = []
    for model in apps.get_models():
        room = _room(model._meta.app_config.name)
        if room is None:
            continue
        for field in model._meta.get_fields():
            if not field.is_relation or field.auto_created or field.related_model is None:
                continue
            target_model = field.related_model
            tenant = target_model._meta.label == settings.NAVBAT_TENANT_MODEL
            if tenant and field.name == "business":
                continue
            target = _room(target_model._meta.app_config.name)
            if target and not arrows.allows(room, target):
                found.append(
                    f"{model._meta.label}.{field.name}: {room} points at {target_model._meta.label}"
                )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=None, help="a tree laid out like navbat/")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    _setup_django()
    arrows = load_arrows()
    root = args.root or REPO / ROOT_PACKAGE
    problems = template_violations(root, arrows)
    if args.root is None:
        problems += relation_violations(arrows)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} arrow(s) point up: see docs/ARCHITECTURE.md")
        return 1
    print("Templates and model relations keep the arrows.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
