"""The NinjaAPI of navbat: one business per bearer token, JSON errors everywhere."""

from ninja import NinjaAPI

from . import appointments, catalog, checkout_points, clients, locations, payments, public
from .auth import BusinessToken
from .errors import install_error_handlers

DESCRIPTION = """\
The salon's data for its own tools: locations, specialists, the catalog, clients,
appointments (with payment links for the client) and online payments, with their refunds.

* **Authentication**: `Authorization: Bearer <token>`; a token opens one business only.
  Another business's ids answer 404. The public booking operations (below) need none.
* **Money** is always an integer number of **tiyin** (1 so'm = 100 tiyin).
* **Times** are ISO 8601 with an offset; answers use the location's zone.
* **Errors** are `{"code", "message", "details"}`: 400 `malformed`, 401 `unauthenticated`,
  404 `not_found`, 409 `conflict` (a taken time slot, a phone already on file),
  422 `invalid` (with field → messages in `details`). A refused refund answers 409 with
  its reason as the `code` (`too_much`, `nothing_left`, `not_paid`, `in_flight`,
  `key_reused`, `provider_cannot`).
* **Idempotency-Key**: `POST /payments/{payment_id}/refunds` needs this header (1 to 64
  characters, new for each refund; missing, empty or longer answers 422). Sending the same
  key with the same body again (after a timeout, say) answers the first refund with 200 and
  moves no more money; the same key with another body (or another payment) is 409
  `key_reused`; a new key makes a new refund (201). Keys are kept per business, for good.
* **Refunds** go back to the card through the bank; the answer comes when the bank has
  answered: `state` `done`, `failed` (nothing moved; a new key may try again), or
  `at_bank` when the bank's answer was lost or is not final (navbat asks the bank until it
  ends; `GET /payments/{payment_id}` shows it). A refund's `id` is the operation id the
  bank knows it by.
* **Pay by QR**: `POST /appointments/{appointment_id}/pay-by-qr` leads a checkout point's
  printed QR to the appointment's payment page for the salon's QR time; 409 `point_held`
  names the appointment the point waits for (`details.appointment_id`).
* **Lists** take `limit` (at most 100) and `offset`, and answer `count` and `items`.
* **Locations** give their `public_slug` and `widget_url`: the salon's online booking page,
  open when `online_booking` is true.

## Public booking (no token)

The operations under `/public/` (tag "public booking") let a salon's own site, app or bot
book clients as its widget does; they need no token and answer in the client's language
(`Accept-Language`: `uz`, `ru` or `en`). A location is named by its `public_slug` (unknown,
or online booking off: 404 `not_found`); a booking by the private token of its `manage_url`.

1. `GET /public/{location}/services`: what can be booked, by category, with prices,
   durations and what each asks in advance.
2. `GET /public/{location}/specialists?services=1,2`: who performs all of them.
3. `GET /public/{location}/days?services=..&specialist=..&from=..&to=..`: the dates with a
   free time (leave `specialist` out for any specialist).
4. `GET /public/{location}/times?services=..&specialist=..&date=..`: the free times.
5. Where the location confirms phones: `POST /public/{location}/phone-checks` and
   `POST /public/{location}/phone-checks/{nonce}/confirm`, then book with `phone_check`.
6. `POST /public/{location}/bookings`: 201 with the booking; 409 `slot_taken` when the time
   went meanwhile. A required prepayment holds the time until `hold_until`: send the client
   to `payment_url`. Unpaid by then, the booking cancels itself.
7. `GET` / `DELETE /public/bookings/{token}`: the booking, and the client's cancellation
   (the salon's refund policy applies; 409 `too_late` past its cut-off).

Every public operation is limited per address and, where a phone is given, per phone:
past a limit it answers 429 `too_many` with `Retry-After` (seconds). A phone may hold only
a few unpaid bookings at once (409 `too_many_holds`). Browsers may call them from any site
(CORS, no credentials).
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
    api.add_router("", checkout_points.router)
    api.add_router("", public.router)
    return api


api = build_api()
