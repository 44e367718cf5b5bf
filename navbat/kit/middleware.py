"""Request bodies are read whole, within a size limit and a deadline, before any view runs.

Views run inside a database transaction (ATOMIC_REQUESTS; on SQLite an IMMEDIATE one that
takes the write lock at once). A view that reads ``request.body`` itself would wait for a
slow client with that transaction open. Reading here, before the view and its atomic block,
keeps the waiting outside: the view gets the body from memory.

navbat's server (waitress) already buffers each body before the application sees it, so
under it the read is instant; the deadline guards any other WSGI server.
"""

import logging
import time
from io import BytesIO

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from navbat.kit.net import client_ip

log = logging.getLogger("navbat.security")

CHUNK = 64 * 1024


def _problem(status: int, code: str, message: str) -> HttpResponse:
    # The JSON API's error shape: the machines that post bodies (the API's clients, the
    # bank) read JSON; no view has run, so nothing was written.
    return JsonResponse({"code": code, "message": message, "details": None}, status=status)


class RequestBodyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _problem(400, "malformed", _("The request is not valid."))
        if length < 0:
            return _problem(400, "malformed", _("The request is not valid."))
        limit = settings.NAVBAT_MAX_REQUEST_BYTES
        if length > limit:
            log.warning(
                "request body of %s bytes refused (limit %s) from %s on %s",
                length,
                limit,
                client_ip(request),
                request.path,
            )
            return _problem(413, "too_large", _("The request is too large."))
        if length:
            body = self._read(request, length)
            if isinstance(body, HttpResponse):
                return body
            # What HttpRequest.body would have done, without waiting in a transaction.
            request._body = body
            request._stream = BytesIO(body)
        return self.get_response(request)

    def _read(self, request, length: int) -> bytes | HttpResponse:
        deadline = time.monotonic() + settings.NAVBAT_BODY_TIMEOUT
        parts, received = [], 0
        stream = request._stream  # bounded by CONTENT_LENGTH (Django's LimitedStream)
        while received < length:
            if time.monotonic() > deadline:
                log.warning(
                    "request body not received within %s s from %s on %s",
                    settings.NAVBAT_BODY_TIMEOUT,
                    client_ip(request),
                    request.path,
                )
                return _problem(408, "timeout", _("The request did not arrive in time."))
            try:
                part = stream.read(min(CHUNK, length - received))
            except OSError:
                part = b""
            if not part:
                return _problem(400, "malformed", _("The request is not valid."))
            parts.append(part)
            received += len(part)
        return b"".join(parts)
