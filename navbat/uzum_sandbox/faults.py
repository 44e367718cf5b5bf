"""Fault switches: how the sandbox bank misbehaves on purpose, so the payment flows can be
tested against a bank that fails the way real banks do.

Switches live in JSON on the rows (``Terminal.faults``, ``MerchantService.faults``) and are
set through the control API (``POST <root>/sandbox/uzum/control/terminals/<id>/faults``,
``POST .../services/<id>/faults``; a key set to ``null`` clears it, ``DELETE`` clears all).

Terminal faults (``Terminal.faults``)
-------------------------------------

Checkout endpoints, keyed by the endpoint name (``payment/register``,
``payment/getOrderStatus``, ``payment/getOperationState``, ``payment/getReceipts``,
``acquiring/complete``, ``acquiring/reverse``, ``acquiring/refund``, and the unused
``acquiring/getBindings``, ``acquiring/unBindCard``, ``payment/merchantPay``,
``acquiring/getMerchantCertificate``, ``acquiring/purchaseReceipt``) or ``"*"`` for every
endpoint without a switch of its own::

    {"acquiring/refund": {"mode": "work_then_timeout", "seconds": 5, "times": 1}}

``mode``
    ``error_5xx``          answer HTTP ``status`` (default 503, any 500…599) at once and do
                           nothing.
    ``hang``               wait ``seconds`` (default 60), then do the work and answer as
                           usual: a bank that holds the connection.
    ``slow``               the same with a default of 3 seconds: a slow bank.
    ``work_then_timeout``  do the work and commit it, then wait ``seconds`` (default 60)
                           before answering: the client times out after the bank did the
                           work.
``seconds``
    a number, capped at 60.
``times``
    optional: the switch applies to the next ``times`` calls only (taken atomically, one per
    call that meets it; at 0 the switch removes itself). Without it the switch stays on.

The switch is met after the terminal and key are checked (a caller with a wrong key gets
1006, never a fault), before anything else.

Callbacks, under the key ``"callbacks"`` (read by the callbacks delivery through
:func:`callback_fault`)::

    {"callbacks": {"mode": "drop" | "duplicate" | "delay" | "reorder",
                   "count": N, "seconds": S, "times": K}}

    ``drop``       the next ``count`` callbacks are never sent (no ``count``: every callback
                   while the switch is on); each dropped callback takes one.
    ``duplicate``  every callback is delivered ``count`` times in all (default 2).
    ``delay``      every callback waits ``seconds`` (default 10) before its first attempt.
    ``reorder``    callbacks are held until ``count`` (default 2) are waiting, then sent
                   newest first.

For the modes other than ``drop``, ``times`` limits the switch to the next K callbacks.
The delivery calls :func:`take_callback_fault` once per new callback (it takes one of
``count`` for ``drop``, one of ``times`` otherwise); :func:`callback_fault` only reads.

Service faults (``MerchantService.faults``)
-------------------------------------------

The sandbox Uzum Bank app's calls to the merchant, keyed by the Merchant API endpoint
(``check``, ``create``, ``confirm``, ``reverse``, ``status``), read through
:func:`take_service_fault`::

    {"confirm": {"mode": "timeout", "seconds": 2, "times": 1}}

    ``timeout``    send the call but give up on the answer after ``seconds`` (default 5), as
                   if it timed out (for ``confirm`` the app then asks ``/status``).
    ``duplicate``  send the same call ``count`` times in all (default 2).
    ``delay``      wait ``seconds`` (default 3) before sending.

``times`` works as for Checkout endpoints. ``seconds`` are capped at 60 everywhere.
"""

import time
from typing import Any

from django.db import transaction

from .models import MerchantService, Terminal

MAX_SECONDS = 60

CHECKOUT_ENDPOINTS = (
    "payment/register",
    "payment/getOrderStatus",
    "payment/getOperationState",
    "payment/getReceipts",
    "acquiring/complete",
    "acquiring/reverse",
    "acquiring/refund",
    "acquiring/getBindings",
    "acquiring/unBindCard",
    "payment/merchantPay",
    "acquiring/getMerchantCertificate",
    "acquiring/purchaseReceipt",
)
ANY_ENDPOINT = "*"
CALLBACKS = "callbacks"

ERROR_5XX = "error_5xx"
HANG = "hang"
SLOW = "slow"
WORK_THEN_TIMEOUT = "work_then_timeout"
CHECKOUT_MODES = {ERROR_5XX: None, HANG: 60, SLOW: 3, WORK_THEN_TIMEOUT: 60}

CALLBACK_MODES = {"drop": None, "duplicate": None, "delay": 10, "reorder": None}
CALLBACK_COUNT_DEFAULTS = {"duplicate": 2, "reorder": 2}

SERVICE_ENDPOINTS = ("check", "create", "confirm", "reverse", "status")
SERVICE_MODES = {"timeout": 5, "duplicate": None, "delay": 3}


class FaultError(ValueError):
    """A fault switch that does not follow the keys above."""


# --------------------------------------------------------------------------- validation


def _seconds(spec: dict, where: str, default: float | None) -> float | None:
    value = spec.get("seconds", default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultError(f"{where}.seconds must be a number of seconds, 0 or more")
    return min(float(value), MAX_SECONDS)


def _positive_int(spec: dict, name: str, where: str) -> int | None:
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FaultError(f"{where}.{name} must be a positive integer")
    return value


def _known_keys(spec: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise FaultError(f"{where}: unknown key {unknown[0]!r}")


def _clean_mode(spec: Any, where: str, modes: dict) -> tuple[dict, str]:
    if not isinstance(spec, dict):
        raise FaultError(f"{where} must be an object with a mode")
    mode = spec.get("mode")
    if mode not in modes:
        raise FaultError(f"{where}.mode must be one of {', '.join(modes)}")
    return spec, mode


def clean_checkout_fault(spec: Any, where: str) -> dict:
    spec, mode = _clean_mode(spec, where, CHECKOUT_MODES)
    _known_keys(spec, {"mode", "seconds", "times", "status"}, where)
    clean: dict[str, Any] = {"mode": mode}
    if mode == ERROR_5XX:
        status = spec.get("status", 503)
        if isinstance(status, bool) or not isinstance(status, int) or not 500 <= status <= 599:
            raise FaultError(f"{where}.status must be an HTTP status 500…599")
        clean["status"] = status
    else:
        clean["seconds"] = _seconds(spec, where, CHECKOUT_MODES[mode])
    times = _positive_int(spec, "times", where)
    if times is not None:
        clean["times"] = times
    return clean


def clean_callback_fault(spec: Any, where: str = CALLBACKS) -> dict:
    spec, mode = _clean_mode(spec, where, CALLBACK_MODES)
    _known_keys(spec, {"mode", "count", "seconds", "times"}, where)
    clean: dict[str, Any] = {"mode": mode}
    count = _positive_int(spec, "count", where)
    if count is None:
        count = CALLBACK_COUNT_DEFAULTS.get(mode)
    if count is not None:
        clean["count"] = count
    seconds = _seconds(spec, where, CALLBACK_MODES[mode])
    if seconds is not None:
        clean["seconds"] = seconds
    times = _positive_int(spec, "times", where)
    if times is not None and mode != "drop":
        clean["times"] = times
    return clean


def clean_service_fault(spec: Any, where: str) -> dict:
    spec, mode = _clean_mode(spec, where, SERVICE_MODES)
    _known_keys(spec, {"mode", "count", "seconds", "times"}, where)
    clean: dict[str, Any] = {"mode": mode}
    if mode == "duplicate":
        clean["count"] = _positive_int(spec, "count", where) or 2
    else:
        clean["seconds"] = _seconds(spec, where, SERVICE_MODES[mode])
    times = _positive_int(spec, "times", where)
    if times is not None:
        clean["times"] = times
    return clean


def merge_terminal_faults(current: dict, changes: Any) -> dict:
    """``changes`` maps keys to a switch (set) or ``None`` (clear). Returns the new set."""
    if not isinstance(changes, dict):
        raise FaultError("faults must be an object")
    merged = dict(current or {})
    for key, spec in changes.items():
        if key not in (*CHECKOUT_ENDPOINTS, ANY_ENDPOINT, CALLBACKS):
            raise FaultError(
                f"unknown fault key {key!r}: use a Checkout endpoint, {ANY_ENDPOINT!r} "
                f"or {CALLBACKS!r}"
            )
        if spec is None:
            merged.pop(key, None)
        elif key == CALLBACKS:
            merged[key] = clean_callback_fault(spec, key)
        else:
            merged[key] = clean_checkout_fault(spec, key)
    return merged


def merge_service_faults(current: dict, changes: Any) -> dict:
    if not isinstance(changes, dict):
        raise FaultError("faults must be an object")
    merged = dict(current or {})
    for key, spec in changes.items():
        if key not in SERVICE_ENDPOINTS:
            raise FaultError(
                f"unknown fault key {key!r}: use one of {', '.join(SERVICE_ENDPOINTS)}"
            )
        if spec is None:
            merged.pop(key, None)
        else:
            merged[key] = clean_service_fault(spec, key)
    return merged


# ------------------------------------------------------------------------------ reading


def _take(model, pk: int, key: str) -> dict | None:
    """The switch under ``key``, taking one of its ``times`` (in its own transaction)."""
    with transaction.atomic():
        row = model.objects.select_for_update().filter(pk=pk).first()
        if row is None:
            return None
        faults = dict(row.faults or {})
        spec = faults.get(key)
        if not isinstance(spec, dict):
            return None
        if "times" in spec:
            left = spec["times"] - 1
            if left > 0:
                faults[key] = {**spec, "times": left}
            else:
                faults.pop(key)
            row.faults = faults
            row.save(update_fields=["faults"])
        return dict(spec)


def take_checkout_fault(terminal: Terminal, endpoint: str) -> dict | None:
    """The switch a Checkout call meets, or None. Reads the terminal as loaded first so
    that calls without switches take no lock."""
    faults = terminal.faults or {}
    for key in (endpoint, ANY_ENDPOINT):
        if key in faults:
            spec = _take(Terminal, terminal.pk, key)
            if spec is not None:
                return spec
    return None


def callback_fault(terminal: Terminal) -> dict:
    """The callbacks switch of a terminal (``{}`` when none): ``mode``, ``count``,
    ``seconds`` as documented above, defaults filled in."""
    spec = (terminal.faults or {}).get(CALLBACKS)
    if not spec:
        return {}
    try:
        return clean_callback_fault(spec)
    except FaultError:
        return {}


def take_callback_fault(terminal: Terminal) -> dict:
    """The callbacks switch one new callback meets (``{}`` when none), taking one of its
    budget: ``count`` for ``drop``, ``times`` for the other modes."""
    if not (terminal.faults or {}).get(CALLBACKS):
        return {}
    with transaction.atomic():
        row = Terminal.objects.select_for_update().filter(pk=terminal.pk).first()
        if row is None:
            return {}
        faults = dict(row.faults or {})
        try:
            spec = clean_callback_fault(faults.get(CALLBACKS))
        except FaultError:
            return {}
        budget = "count" if spec["mode"] == "drop" else "times"
        if budget in spec:
            left = spec[budget] - 1
            if left > 0:
                faults[CALLBACKS] = {**spec, budget: left}
            else:
                faults.pop(CALLBACKS)
            row.faults = faults
            row.save(update_fields=["faults"])
            terminal.faults = faults
        return spec


def take_service_fault(service: MerchantService, endpoint: str) -> dict | None:
    """The switch the app's call to the merchant's ``endpoint`` meets, or None."""
    if endpoint not in (service.faults or {}):
        return None
    return _take(MerchantService, service.pk, endpoint)


def pause(seconds: float | None) -> None:
    if seconds:
        time.sleep(min(float(seconds), MAX_SECONDS))
