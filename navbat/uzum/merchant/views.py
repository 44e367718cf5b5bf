"""``POST <root>/uzum/merchant/<connection>/{check,create,confirm,reverse,status}``.

Checks in the order uzum-bank.md §2 gives: Basic auth first (10001, nothing echoed), then
the method (10003), the JSON (10002), the fields (10005) and the service id (10006); then
the endpoint's own rules. Never a 500: anything unexpected is 99999, logged.
"""

import base64
import binascii
import hmac
import logging
import uuid

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ..ingest import cached_connection
from ..models import Connection
from ..services import connection_at
from . import services
from .protocol import Code, MerchantError, failed, load, parse

log = logging.getLogger("navbat.uzum")
security_log = logging.getLogger("navbat.security")

HANDLERS = {
    "check": services.check,
    "create": services.create,
    "confirm": services.confirm,
    "reverse": services.reverse,
    "status": services.status,
}


def _credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _space, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded or len(encoded) > 1024:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, colon, password = decoded.partition(":")
    return (login, password) if colon else None


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def authorized(request: HttpRequest, connection: Connection | None) -> bool:
    """Both halves compared in constant time, always both, whatever is wrong."""
    given = _credentials(request) or ("", "")
    login = connection.merchant_login if connection else ""
    password = connection.merchant_password if connection else ""
    login_ok = _same(given[0], login or "\x00no login")
    password_ok = _same(given[1], password or "\x00no password")
    return bool(connection and login and password and login_ok and password_ok)


def _answer(body: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status)


@csrf_exempt  # the bank's server, authenticated by Basic auth; no browser session
@transaction.non_atomic_requests  # /confirm commits before it answers
def endpoint(request: HttpRequest, connection, endpoint: str) -> JsonResponse:
    # /check moves no money and is what the app asks most: its connection may be up to a
    # minute old (the callbacks' cache). The others read it afresh.
    if endpoint == "check":
        row = cached_connection(uuid.UUID(connection))
    else:
        row = connection_at(connection)
    if not authorized(request, row):
        security_log.warning(
            "merchant API %s: access denied for connection %s from %s",
            endpoint,
            connection,
            request.META.get("REMOTE_ADDR", "?"),
        )
        return _answer(failed(Code.ACCESS_DENIED), 400)
    data = None
    try:
        if request.method != "POST":
            raise MerchantError(Code.NOT_POST, request.method or "")
        try:
            body = request.body
        except RequestDataTooBig:
            raise MerchantError(Code.JSON_PARSE, "body too large") from None
        data = load(body)
        call = parse(endpoint, data)
        if call.service_id != row.merchant_service_id:
            raise MerchantError(Code.WRONG_SERVICE, str(call.service_id))
        return _answer(HANDLERS[endpoint](connection=row, request=call))
    except MerchantError as error:
        log.info("merchant API %s on %s: %s", endpoint, row.public_id, error)
        return _answer(failed(error.code, data=data, endpoint=endpoint), 400)
    except Exception:
        log.exception("merchant API %s on %s failed", endpoint, row.public_id)
        return _answer(failed(Code.INTERNAL, data=data, endpoint=endpoint), 400)
