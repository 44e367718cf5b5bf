"""The NinjaAPI of navbat: one business per bearer token, JSON errors everywhere."""

from ninja import NinjaAPI

from . import appointments, catalog, clients, locations, payments
from .auth import BusinessToken
from .errors import install_error_handlers

DESCRIPTION = """\
The salon's data for its own tools: locations, specialists, the catalog, clients,
appointments (with payment links for the client) and online payments.

* **Authentication**: `Authorization: Bearer <token>`; a token opens one business only.
  Another business's ids answer 404.
* **Money** is always an integer number of **tiyin** (1 so'm = 100 tiyin).
* **Times** are ISO 8601 with an offset; answers use the location's zone.
* **Errors** are `{"code", "message", "details"}`: 400 `malformed`, 401 `unauthenticated`,
  404 `not_found`, 409 `conflict` (a taken time slot, a phone already on file),
  422 `invalid` (with field → messages in `details`).
* **Lists** take `limit` (at most 100) and `offset`, and answer `count` and `items`.
"""


class NavbatAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__


def build_api() -> NinjaAPI:
    api = NavbatAPI(
        title="navbat API",
        version="1",
        description=DESCRIPTION,
        urls_namespace="api",
        openapi_url="/openapi.json",
        docs_url="/docs",
        auth=BusinessToken(),
    )
    install_error_handlers(api)
    api.add_router("", locations.router)
    api.add_router("", catalog.router)
    api.add_router("", clients.router)
    api.add_router("", appointments.router)
    api.add_router("", payments.router)
    return api


api = build_api()
