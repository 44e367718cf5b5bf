"""Response headers for every page: the Content-Security-Policy and "never store this".

Both sit right after Django's SecurityMiddleware (settings.py puts them there), so responses
that other middleware answers early carry them too.
"""

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.utils.cache import add_never_cache_headers

# The client's Quick Payment pages (navbat/urls.py mounts them here).
PAY_PREFIX = "/pay/"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (settings.CONTENT_SECURITY_POLICY), with two additions to
    ``form-action``:

    - navbat's public address, which a page reached under another address (the sandbox's
      hosted page on its own host) sends the client back to;
    - on the Quick Payment pages, ``NAVBAT_PAY_FORM_ACTION`` (default ``https:``): "Pay by
      card" posts to navbat, which redirects to the bank's payment page; browsers hold a
      redirected form submission to ``form-action``, and the bank chooses the host of its
      page (Uzum documents none). Nothing on these pages asks for a secret: the card is
      typed on the bank's page.
    """

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        extra = [origin(settings.NAVBAT_PUBLIC_URL)]
        if request.path_info.startswith(PAY_PREFIX):
            extra += list(settings.NAVBAT_PAY_FORM_ACTION)
        update = dict(parts.update or {})
        update["form-action"] = [*update.get("form-action", []), *extra]
        parts.update = update
        return parts


class NoStoreMiddleware:
    """Every page navbat draws shows someone's data (an administration page, a client's
    bill behind a /pay/ token, the Django admin, the JSON API): no browser, proxy or shared
    computer keeps a copy. Static files keep their long cache (their names carry a hash)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else None

    def __call__(self, request):
        response = self.get_response(request)
        if self.static_prefix and request.path_info.startswith(self.static_prefix):
            return response
        if getattr(response, "navbat_public_cache", False):
            # A view that marks its answer as nobody's data keeps its own caching (the
            # booking widget's specialist photos, public and addressed by version).
            return response
        # max-age=0, no-cache, no-store, must-revalidate, private; a view's "public" or longer
        # max-age gives way (patch_cache_control drops "public" when "private" comes).
        add_never_cache_headers(response)
        return response
