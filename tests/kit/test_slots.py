"""Slots: a lower room's page shows what the rooms above contributed, in order, with the
context each contribution adds, without the lower room naming them."""

import pytest
from django.template import Context, Engine

from navbat.kit import slots

TEMPLATES = {
    "page.html": "{% load navbat %}[{% slot 'test.slot' %}]",
    "one.html": "one({{ who }})",
    "two.html": "two({{ extra }},{{ who }})",
}


@pytest.fixture
def engine():
    yield Engine(
        loaders=[("django.template.loaders.locmem.Loader", TEMPLATES)],
        libraries={"navbat": "navbat.kit.templatetags.navbat"},
    )
    slots._SLOTS.pop("test.slot", None)


def render(engine, **context) -> str:
    return engine.get_template("page.html").render(Context(context))


def test_an_empty_slot_renders_nothing(engine):
    assert render(engine, who="x") == "[]"


def test_contributions_render_in_order_with_their_context(engine):
    slots.contribute("test.slot", template="two.html", order=20, context=lambda c: {"extra": 7})
    slots.contribute("test.slot", template="one.html", order=10)
    assert render(engine, who="x") == "[one(x)two(7,x)]"
    # What a contribution adds stays inside it.
    assert [c.template for c in slots.contributions("test.slot")] == ["one.html", "two.html"]


def test_contributing_again_replaces(engine):
    slots.contribute("test.slot", template="one.html", order=10)
    slots.contribute("test.slot", template="one.html", order=30)
    assert [(c.template, c.order) for c in slots.contributions("test.slot")] == [("one.html", 30)]
    assert render(engine, who="<b>") == "[one(&lt;b&gt;)]"  # escaped once, not twice


def test_the_rooms_fill_the_slots_of_the_rooms_below():
    assert [c.template for c in slots.contributions("finance.nav")] == [
        "payments/_finance_nav.html"
    ]
    assert [c.template for c in slots.contributions("salons.client")] == [
        "booking/_client_visits.html",
        "finance/_client_transactions.html",
    ]
    assert [c.template for c in slots.contributions("salons.client.after")] == [
        "booking/_client_payment_links.html"
    ]
