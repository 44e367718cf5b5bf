"""The bank-call guard (navbat.kit.bankcalls), and the walk over every URL that finds each
view reaching a bank call and checks that it is out of the request transaction."""

import inspect
import types

import pytest
from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver

from navbat.kit import bankcalls
from navbat.kit.bankcalls import (
    BankCallInTransaction,
    bank_call,
    bank_calling_view,
    ensure_outside_transaction,
    mark_test_scaffolding,
    open_transaction,
)
from navbat.payments import public_views

calls = []


@bank_call
def call_the_bank(amount: int) -> int:
    calls.append(amount)
    return amount


# ------------------------------------------------------------------------------ the guard


def test_no_transaction_open_outside_a_test_transaction(db):
    calls.clear()
    assert open_transaction() is None  # the TestCase's own atomics do not count
    assert call_the_bank(5) == 5
    assert calls == [5]


def test_a_bank_call_inside_atomic_is_refused_before_it_runs(db):
    calls.clear()
    with transaction.atomic():
        assert open_transaction() == "default"
        with pytest.raises(BankCallInTransaction) as refused:
            call_the_bank(7)
    assert calls == []
    assert refused.value.what == "tests.kit.test_bankcalls.call_the_bank"
    assert refused.value.alias == "default"
    assert "transaction.atomic()" in str(refused.value)
    assert "@bank_calling_view" in str(refused.value)


def test_nested_and_savepoint_free_atomics_are_refused_too(db):
    calls.clear()
    outer, inner = transaction.atomic(), transaction.atomic(savepoint=False)
    with outer, inner, pytest.raises(BankCallInTransaction):
        ensure_outside_transaction("a bank")
    with transaction.atomic(durable=False), pytest.raises(BankCallInTransaction):
        call_the_bank(1)
    assert calls == []
    assert open_transaction() is None


def test_scaffolding_marked_like_the_test_case_does_not_count(db):
    calls.clear()
    outer = mark_test_scaffolding(transaction.atomic())
    with outer:
        assert call_the_bank(3) == 3
        with transaction.atomic(), pytest.raises(BankCallInTransaction):
            call_the_bank(4)
    assert calls == [3]


@pytest.mark.django_db(transaction=True)
def test_a_transaction_begun_by_hand_is_refused():
    calls.clear()
    assert call_the_bank(1) == 1  # no atomic at all in a transactional test
    transaction.set_autocommit(False)
    try:
        with pytest.raises(BankCallInTransaction):
            call_the_bank(2)
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)
    assert calls == [1]


def test_no_database_opened_just_to_look():
    # No database access allowed here: the guard only looks at connections already open.
    assert open_transaction() in (None, "default")
    assert inspect.signature(ensure_outside_transaction).parameters.keys() == {"what"}


def test_a_bank_calling_view_is_out_of_the_request_transaction():
    def view(request):
        return None

    marked = bank_calling_view(view)
    assert marked is view
    assert marked.calls_bank is True
    assert marked._non_atomic_requests == {"default"}
    assert marked in bankcalls.BANK_CALLING_VIEWS
    bankcalls.BANK_CALLING_VIEWS.discard(marked)


# ------------------------------------------------------------------------- the URL walk


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _referenced(function) -> list:
    """What ``function``'s code names through its module's globals: functions, and the
    functions and methods of navbat's modules and classes it names (``services.refresh``,
    ``UzumProvider().fetch_bank_order``)."""
    code = getattr(function, "__code__", None)
    if code is None:
        return []
    names = _code_names(code)
    found = []
    for name in names:
        target = function.__globals__.get(name)
        if target is None:
            continue
        if isinstance(target, types.ModuleType) or inspect.isclass(target):
            home = target.__name__ if inspect.ismodule(target) else target.__module__
            if not home.startswith("navbat"):
                continue
            found.extend(
                attribute
                for attribute in (getattr(target, other, None) for other in names)
                if callable(attribute)
            )
        elif callable(target):
            found.append(target)
    return found


def _is_bank_call(function) -> bool:
    try:
        return function in bankcalls.BANK_CALLS
    except TypeError:  # unhashable: not a function
        return False


def reaches_bank(function, seen: dict | None = None) -> bool:
    """Whether calling ``function`` can reach a function marked ``bank_call``, through the
    functions of navbat it names (a static walk: dynamic dispatch such as
    ``providers.get(...).fetch`` is covered by the service that does it being marked)."""
    seen = {} if seen is None else seen
    if _is_bank_call(function):
        return True
    function = getattr(function, "__func__", function)
    key = id(function)
    if key in seen:
        return seen[key]
    seen[key] = False
    layers = [function]
    while hasattr(layers[-1], "__wrapped__"):
        layers.append(layers[-1].__wrapped__)
    result = False
    for layer in layers:
        if _is_bank_call(layer):
            result = True
            break
        if not getattr(layer, "__module__", "").startswith("navbat"):
            continue
        if any(reaches_bank(target, seen) for target in _referenced(layer)):
            result = True
            break
    seen[key] = result
    return result


def url_views(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from url_views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def api_operations():
    from navbat.api.main import api

    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                yield prefix + path, operation.view_func


def test_every_view_that_reaches_a_bank_call_is_marked_and_out_of_the_request_transaction():
    assert connection.settings_dict["ATOMIC_REQUESTS"] is True
    reaching, marked = {}, {}
    for route, view in url_views():
        if getattr(view, "calls_bank", False):
            marked[route] = view
        if reaches_bank(view):
            reaching[route] = view
    unmarked = sorted(route for route in reaching if route not in marked)
    assert unmarked == [], f"views reaching a bank call without @bank_calling_view: {unmarked}"
    for route, view in marked.items():
        assert "default" in getattr(view, "_non_atomic_requests", set()), route
    # The walk finds the known ones (it is not vacuous), and every marked view is routed.
    names = {view.__name__ for view in reaching.values()}
    assert {
        "pay_card_view",
        "pay_return_view",
        "pay_status_view",
        "reconciliation_view",
        "connect_view",
    } <= names
    assert {inspect.unwrap(v) for v in bankcalls.BANK_CALLING_VIEWS} <= {
        inspect.unwrap(v) for v in marked.values()
    }


def test_only_the_refund_operation_of_the_api_reaches_a_bank_call_and_it_is_marked():
    # The API's operations run in the request transaction (api/errors.py rolls a refusal
    # back). One that must call a bank is taken out of it in api/urls.py (by its URL name).
    from navbat.api import urls as api_urls

    reaching = sorted(route for route, view in api_operations() if reaches_bank(view))
    assert reaching == ["/payments/{payment_id}/refunds"]
    assert len(list(api_operations())) >= 20
    marked = {
        pattern.name: pattern.callback
        for pattern in api_urls.urlpatterns[0].url_patterns
        if getattr(pattern.callback, "calls_bank", False)
    }
    assert set(marked) == {"refund_payment"} == api_urls.BANK_CALLING
    assert marked["refund_payment"]._non_atomic_requests == {"default"}
    assert marked["refund_payment"] in bankcalls.BANK_CALLING_VIEWS


def test_the_walk_sees_a_bank_call_through_a_module_and_a_helper():
    def forgotten(request, token):  # what a new view that forgot the decorator looks like
        return public_views._pull(None, business=None)

    forgotten.__module__ = "navbat.payments.public_views"
    assert reaches_bank(forgotten) is True
    assert reaches_bank(public_views.pay_view) is False
    assert reaches_bank(public_views.pay_watch_view) is False
