"""Login throttling on django-axes, shaped so that an attacker cannot lock a salon out.

axes records every failed ``authenticate`` (navbat's login page and the Django admin's) per
account, client address and user agent. This handler decides from those rows:

- an account *at one address* may fail ``AXES_FAILURE_LIMIT`` times; from then on each
  failure doubles the wait before the next attempt from that address (one minute, two, four,
  … at most ``NAVBAT_LOGIN_LONGEST_DELAY``). The owner at another address is not affected;
- one address may fail ``NAVBAT_LOGIN_FAILURES_PER_ADDRESS`` times across all accounts
  (credential stuffing) before it waits the same growing way;
- attempts refused while waiting are not checked and not counted;
- failures are forgotten ``AXES_COOLOFF_TIME`` after the last one.

Why not axes's own cool-off callable for the growing wait: axes also uses the cool-off of
the *current* request to purge *every* client's rows, so a short cool-off computed for one
client would erase another's long one. Here the cool-off stays one fixed memory and the wait
is computed per account and address.
"""

import ipaddress
import math
from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Q, Sum
from django.shortcuts import render
from django.utils.translation import ngettext

from navbat.kit.net import client_ip


def client_address(request) -> str | None:
    """The client address behind the trusted proxies; None when nothing names one (axes
    stores addresses in an IP column)."""
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


def normalized_email(value) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip().lower()[:254] or None


def attempted_username(request, credentials: dict | None = None) -> str | None:
    """The e-mail an attempt was for, whoever asks: navbat's form and Django's ``authenticate``
    call it ``username``, the admin's form posts ``username``, axes itself says ``email``."""
    field = get_user_model().USERNAME_FIELD
    if credentials:
        return normalized_email(credentials.get("username") or credentials.get(field))
    data = getattr(request, "POST", {})
    return normalized_email(data.get("username") or data.get(field))


def delay(failures: int, limit: int) -> timedelta:
    """The wait after ``failures`` failures: none below ``limit``, then doubling."""
    if failures < limit:
        return timedelta(0)
    first = settings.NAVBAT_LOGIN_FIRST_DELAY
    longest = settings.NAVBAT_LOGIN_LONGEST_DELAY
    doublings = min(failures - limit, 32)
    return min(first * (2**doublings), longest)


class GrowingDelayHandler(AxesDatabaseHandler):
    def wait_seconds(self, request, credentials: dict | None = None) -> int:
        """Seconds before this account may be tried again from this address (0: now)."""
        username = get_client_username(request, credentials)
        now = request.axes_attempt_time
        recent = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address,
            attempt_time__gt=now - settings.AXES_COOLOFF_TIME,
        )
        same_account = Q(username=username)
        seen = recent.aggregate(
            address_failures=Sum("failures_since_start"),
            address_last=Max("attempt_time"),
            pair_failures=Sum("failures_since_start", filter=same_account),
            pair_last=Max("attempt_time", filter=same_account),
        )
        waits = [0.0]
        for prefix, limit in (
            ("pair", settings.AXES_FAILURE_LIMIT),
            ("address", settings.NAVBAT_LOGIN_FAILURES_PER_ADDRESS),
        ):
            failures = seen[f"{prefix}_failures"] or 0
            if failures >= limit:
                until = seen[f"{prefix}_last"] + delay(failures, limit)
                waits.append((until - now).total_seconds())
        return max(0, math.ceil(max(waits)))

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        wait = self.wait_seconds(request, credentials)
        request.navbat_retry_after = wait
        return wait > 0


class ThrottleBackend(AxesStandaloneBackend):
    """axes's gate, first among the backends. Only a login over HTTP has a client to count:
    a call from code (a command, a test) passes no request and is left to the next backend,
    where axes would refuse it outright. Both HTTP logins (navbat's page, the admin's) pass
    their request, and tests hold them to it."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def throttled_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed attempts. Try again in %(minutes)d minute.",
        "Too many failed attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def retry_after(request) -> int:
    return int(getattr(request, "navbat_retry_after", 0) or 0)


def lockout_response(request, original_response=None, credentials=None):
    """What a refused attempt answers: navbat's login page answers itself (its form, the
    message, 429); any other login (the Django admin's) gets a page saying how long to wait."""
    if getattr(original_response, "navbat_throttled", False):
        return original_response
    seconds = retry_after(request)
    response = render(
        request,
        "accounts/throttled.html",
        {"message": throttled_message(seconds), "back": request.path},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
