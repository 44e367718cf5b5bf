"""Every error the API answers is JSON ``{"code", "message", "details"}``.

The handlers are installed on the NinjaAPI so that no input, however bad, reaches
Django's HTML error pages or a 500. An error answer also marks the request's
transaction (``ATOMIC_REQUESTS``) for rollback, so a refused request changes nothing.
"""

import logging
from functools import wraps

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, ValidationError
from django.db import DataError, IntegrityError, connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError

from navbat.kit.errors import Conflict

logger = logging.getLogger("navbat.api")

# Codes a client can rely on (documented in ErrorOut).
UNAUTHENTICATED = "unauthenticated"
NOT_FOUND = "not_found"
CONFLICT = "conflict"
INVALID = "invalid"
MALFORMED = "malformed"
TOO_LARGE = "too_large"
METHOD_NOT_ALLOWED = "method_not_allowed"
SERVER_ERROR = "server_error"

_HTTP_CODES = {400: MALFORMED, 401: UNAUTHENTICATED, 404: NOT_FOUND, 405: METHOD_NOT_ALLOWED}


def _rollback() -> None:
    """Undo whatever the request wrote before it failed (the request is one transaction).
    A view out of the request transaction (one that calls a bank) has none open here; the
    blocks a test case holds around it are not the request's to roll back."""
    if connection.in_atomic_block and not getattr(
        connection.atomic_blocks[-1], "_from_testcase", False
    ):
        transaction.set_rollback(True)


def error_body(code: str, message: str, details=None) -> dict:
    return {"code": code, "message": message, "details": details}


def error_response(status: int, code: str, message: str, details=None) -> HttpResponse:
    _rollback()
    return JsonResponse(error_body(code, message, details), status=status)


def _field_key(loc: tuple | list) -> str:
    """``("body", "payload", "lines", 0, "quantity")`` → ``"lines.0.quantity"``."""
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        source, parts = parts[0], parts[1:]
        # A body schema is nested under its parameter name; a query schema is flattened.
        if source == "body" and len(parts) > 1:
            parts = parts[1:]
    return ".".join(parts) or "__all__"


def schema_error_details(errors: list[dict]) -> dict[str, list[str]]:
    details: dict[str, list[str]] = {}
    for error in errors:
        details.setdefault(_field_key(error.get("loc", ())), []).append(str(error.get("msg", "")))
    return details


def django_error_details(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def _on_schema_error(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
    return error_response(
        422, INVALID, _("The request is not valid."), schema_error_details(exc.errors)
    )


def _on_django_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = django_error_details(exc)
    messages = [message for field in details.values() for message in field]
    return error_response(422, INVALID, messages[0] if messages else "", details)


def _on_conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    details = django_error_details(exc)
    messages = [message for field in details.values() for message in field]
    return error_response(409, CONFLICT, messages[0] if messages else _("Conflict."), details)


def _on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, NOT_FOUND, _("Not found."))


def _on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(
        401, UNAUTHENTICATED, _("Send a valid API token: Authorization: Bearer <token>.")
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = _HTTP_CODES.get(exc.status_code, INVALID if exc.status_code < 500 else SERVER_ERROR)
    message = _("The request body is not valid JSON.") if exc.status_code == 400 else str(exc)
    return error_response(exc.status_code, code, message)


def _on_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(413, TOO_LARGE, _("The request is too large."))


def _on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    return error_response(400, MALFORMED, _("The request is not valid."))


def _on_integrity(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # Services check first; this is the database refusing a race the check could not see.
    logger.warning("API request refused by a database constraint: %s", exc)
    return error_response(409, CONFLICT, _("The change clashes with the current data."))


def _on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    logger.warning("API request refused by the database: %s", exc)
    return error_response(422, INVALID, _("A value is out of range."))


def _on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unexpected error in the API", exc_info=exc)
    return error_response(500, SERVER_ERROR, _("Something went wrong on our side."))


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace ninja's defaults; the most specific class wins (ninja walks the MRO)."""
    api.add_exception_handler(SchemaValidationError, _on_schema_error)
    api.add_exception_handler(ValidationError, _on_django_validation)
    api.add_exception_handler(Conflict, _on_conflict)
    api.add_exception_handler(Http404, _on_not_found)
    api.add_exception_handler(AuthenticationError, _on_unauthenticated)
    api.add_exception_handler(HttpError, _on_http_error)
    api.add_exception_handler(RequestDataTooBig, _on_too_large)
    api.add_exception_handler(SuspiciousOperation, _on_suspicious)
    api.add_exception_handler(IntegrityError, _on_integrity)
    api.add_exception_handler(DataError, _on_data_error)
    api.add_exception_handler(Exception, _on_unexpected)


def not_found_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """Unknown paths under the API prefix answer JSON too."""
    return JsonResponse(error_body(NOT_FOUND, _("Not found.")), status=404)


def json_method_not_allowed(view):
    """Ninja answers a wrong method in plain text; turn that into our JSON error."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = ", ".join(sorted(method.strip() for method in response["Allow"].split(",")))
            message = _("Use one of: %(allowed)s.") % {"allowed": allowed}
            response = JsonResponse(error_body(METHOD_NOT_ALLOWED, message), status=405)
            response["Allow"] = allowed
        return response

    return wrapped
