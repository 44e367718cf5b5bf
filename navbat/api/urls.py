from functools import wraps

from django.db import transaction
from django.http import HttpResponse
from django.urls import URLPattern, include, path, re_path

from navbat.kit.bankcalls import bank_calling_view

from .errors import json_method_not_allowed, not_found_view
from .main import api
from .payments import REFUND_URL_NAME
from .public import OPERATIONS as PUBLIC_OPERATIONS

# The schema and the docs page read no data: no transaction (and no database) for them.
_NO_DATA = {"openapi-json", "openapi-view"}
# Operations that call a bank: out of the request transaction (their services commit their
# own short ones around the call, and a refusal has written nothing), marked for the walk
# of tests/kit/test_bankcalls.py.
BANK_CALLING = {REFUND_URL_NAME}
# The public booking operations (api/public.py): out of the request transaction too, for
# another reason. Each counts itself against the public limits first, in a statement of
# its own that a refusal must not roll back (a flood of refused requests still counts),
# and then opens its own transaction around the work. None calls a bank. Browsers may
# call them from any site: they take no credentials and carry no cookie-based authority.
PUBLIC = PUBLIC_OPERATIONS
CORS_MAX_AGE = 24 * 3600


def public_cors(view):
    """Any site's pages may call the public booking API (no credentials are involved)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Content-Type, Accept-Language"
            response["Access-Control-Max-Age"] = str(CORS_MAX_AGE)
        else:
            response = view(request, *args, **kwargs)
            response["Access-Control-Expose-Headers"] = "Retry-After"
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapped


def _wrap(pattern):
    if not isinstance(pattern, URLPattern):
        return pattern
    view = json_method_not_allowed(pattern.callback)
    if pattern.name in _NO_DATA:
        view = transaction.non_atomic_requests(view)
    if pattern.name in BANK_CALLING:
        view = bank_calling_view(view)
    if pattern.name in PUBLIC:
        view = transaction.non_atomic_requests(public_cors(view))
    return URLPattern(pattern.pattern, view, pattern.default_args, pattern.name)


_patterns, _app_name, _namespace = api.urls

urlpatterns = [
    path("", include(([_wrap(p) for p in _patterns], _app_name), namespace=_namespace)),
    # Anything else under the API prefix is a JSON 404, not Django's HTML page.
    re_path(r"^", not_found_view),
]
