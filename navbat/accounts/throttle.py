"""Login throttling on django-axes, shaped so that an attacker cannot lock a salon out.

axes records every failed ``authenticate`` (navbat's login page and the Django admin's) per
account, client address and user agent. This handler decides from those rows:

- an account *at one address* may fail ``AXES_FAILURE_LIMIT`` times; from then on each
  failure doubles the wait before the next attempt from that address (one minute, two, four,
  … at most ``NAVBAT_LOGIN_LONGEST_DELAY``). The owner at another address is not affected;
- one address may fail ``NAVBAT_LOGIN_FAILURES_PER_ADDRESS`` times across all accounts
  (credential stuffing) before it waits the same growing way;
- an account may fail ``NAVBAT_LOGIN_FAILURES_PER_ACCOUNT_ANYWHERE`` times across all
  addresses (guessing from a botnet) before every new attempt at it waits the same growing
  way — except from a device that logged in to it before (the device cookie, devices.py),
  so that an attacker cannot lock the owner out of their usual browsers. Such a device also
  passes its address's ceiling for that account;
- an IPv6 client is its /64 (one subscriber's network hands out addresses from a whole /64,
  so counting each address would give an attacker 2**64 fresh starts); IPv4 is exact;
- no request data is stored with a failure (axes would append every posted field to the
  row on each failure: junk fields would fill the database);
- attempts refused while waiting are not checked and not counted;
- failures are forgotten ``AXES_COOLOFF_TIME`` after the last one.

Why not axes's own cool-off callable for the growing wait: axes also uses the cool-off of
the *current* request to purge *every* client's rows, so a short cool-off computed for one
client would erase another's long one. Here the cool-off stays one fixed memory and the wait
is computed per account and address.
"""

import ipaddress
import logging
import math
from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import router, transaction
from django.db.models import F, Max, Q, Sum
from django.shortcuts import render
from django.utils.translation import ngettext

from navbat.kit.net import client_ip

from .devices import device_knows

security_log = logging.getLogger("navbat.security")
_warned_untrusted_proxy = False


def warn_untrusted_proxy(sender=None, environ=None, scope=None, **kwargs) -> None:
    """On every request (``request_started``, WSGI or ASGI): a forwarded header in
    production with no trusted proxy means a proxy we were not told about is in front, and
    every client looks like it (one client for all limits). Said once per process; the
    request goes on (refusing would take the site down)."""
    global _warned_untrusted_proxy  # noqa: PLW0603 - once per process
    if _warned_untrusted_proxy or getattr(settings, "NAVBAT_MODE", "") != "production":
        return
    if int(getattr(settings, "NAVBAT_TRUSTED_PROXIES", 0)) > 0:
        return
    if environ is not None:
        forwarded = bool(environ.get("HTTP_X_FORWARDED_FOR"))
    else:
        headers = (scope or {}).get("headers") or ()
        forwarded = any(name.lower() == b"x-forwarded-for" and value for name, value in headers)
    if not forwarded:
        return
    _warned_untrusted_proxy = True
    security_log.warning(
        "A request came with X-Forwarded-For but NAVBAT_TRUSTED_PROXIES is 0: if a proxy or "
        "load balancer is in front of navbat, every client looks like it to the login and "
        "reset limits. Set NAVBAT_TRUSTED_PROXIES to the number of proxies in front."
    )


def client_address(request) -> str | None:
    """The client address behind the trusted proxies as throttling keys it: IPv4 exact,
    IPv6 its /64 (written as the network's address, so it still fits axes's IP column);
    None when nothing names one."""
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return None
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


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
        """Seconds before this account may be tried again from this client (0: now)."""
        username = get_client_username(request, credentials)
        now = request.axes_attempt_time
        recent = AccessAttempt.objects.filter(attempt_time__gt=now - settings.AXES_COOLOFF_TIME)
        here = Q(ip_address=request.axes_ip_address)
        same_account = Q(username=username)
        seen = recent.filter(here | same_account).aggregate(
            address_failures=Sum("failures_since_start", filter=here),
            address_last=Max("attempt_time", filter=here),
            pair_failures=Sum("failures_since_start", filter=here & same_account),
            pair_last=Max("attempt_time", filter=here & same_account),
            account_failures=Sum("failures_since_start", filter=same_account),
            account_last=Max("attempt_time", filter=same_account),
        )
        limits = [("pair", settings.AXES_FAILURE_LIMIT)]
        # A device its owner logged in from before is judged only by its own address's
        # failures at this account: neither a botnet's nor the address's other accounts'.
        if not device_knows(request, username):
            limits += [
                ("address", settings.NAVBAT_LOGIN_FAILURES_PER_ADDRESS),
                ("account", settings.NAVBAT_LOGIN_FAILURES_PER_ACCOUNT_ANYWHERE),
            ]
        waits = [0.0]
        for prefix, limit in limits:
            failures = seen[f"{prefix}_failures"] or 0
            if failures >= limit:
                until = seen[f"{prefix}_last"] + delay(failures, limit)
                waits.append((until - now).total_seconds())
        return max(0, math.ceil(max(waits)))

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        wait = self.wait_seconds(request, credentials)
        request.navbat_retry_after = wait
        return wait > 0

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        """axes's recording of a failure, less the request data it appends to the row each
        time (every posted field but the masked ones: a stranger's megabyte per failure).
        Only the bounded fields stay: user agent, Accept header and path, as axes cuts them."""
        if request is None:
            return
        self.clean_expired_user_attempts(request, credentials)
        username = get_client_username(request, credentials)
        if request.axes_locked_out:
            # Refused unchecked: not counted (settings: no reset of the wait either).
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes", request=request, username=username, ip_address=request.axes_ip_address
            )
            return
        if self.is_whitelisted(request, credentials):
            return
        with transaction.atomic(using=router.db_for_write(AccessAttempt)):
            attempt, created = AccessAttempt.objects.select_for_update().get_or_create(
                username=username,
                ip_address=request.axes_ip_address,
                user_agent=request.axes_user_agent,
                defaults={
                    "get_data": "",
                    "post_data": "",
                    "http_accept": request.axes_http_accept,
                    "path_info": request.axes_path_info,
                    "failures_since_start": 1,
                    "attempt_time": request.axes_attempt_time,
                },
            )
            if not created:
                AccessAttempt.objects.filter(pk=attempt.pk).update(
                    http_accept=request.axes_http_accept,
                    path_info=request.axes_path_info,
                    failures_since_start=F("failures_since_start") + 1,
                    attempt_time=request.axes_attempt_time,
                )
        request.axes_failures_since_start = self.get_failures(request, credentials)


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
