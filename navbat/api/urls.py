from django.db import transaction
from django.urls import URLPattern, include, path, re_path

from navbat.kit.bankcalls import bank_calling_view

from .errors import json_method_not_allowed, not_found_view
from .main import api
from .payments import REFUND_URL_NAME

# The schema and the docs page read no data: no transaction (and no database) for them.
_NO_DATA = {"openapi-json", "openapi-view"}
# Operations that call a bank: out of the request transaction (their services commit their
# own short ones around the call, and a refusal has written nothing), marked for the walk
# of tests/kit/test_bankcalls.py.
BANK_CALLING = {REFUND_URL_NAME}


def _wrap(pattern):
    if not isinstance(pattern, URLPattern):
        return pattern
    view = json_method_not_allowed(pattern.callback)
    if pattern.name in _NO_DATA:
        view = transaction.non_atomic_requests(view)
    if pattern.name in BANK_CALLING:
        view = bank_calling_view(view)
    return URLPattern(pattern.pattern, view, pattern.default_args, pattern.name)


_patterns, _app_name, _namespace = api.urls

urlpatterns = [
    path("", include(([_wrap(p) for p in _patterns], _app_name), namespace=_namespace)),
    # Anything else under the API prefix is a JSON 404, not Django's HTML page.
    re_path(r"^", not_found_view),
]
