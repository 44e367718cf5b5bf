"""Finds the business (and role) of the logged-in user for every request."""

from django.utils import timezone

from navbat.kit.timeutil import zone


class BusinessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.business = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = (
                user.memberships.select_related("business", "specialist").order_by("id").first()
            )
            if membership is not None:
                request.membership = membership
                request.business = membership.business
                timezone.activate(zone(membership.business.timezone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
