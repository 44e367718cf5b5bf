"""Who may open which administration page."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .models import Role


def business_required(view):
    """Logged in and a member of a business; ``request.business`` is then set."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request, "business", None) is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def manager_required(view):
    """Owners and administrators only; specialists see their own appointments and nothing else."""

    @business_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.membership.role not in (Role.OWNER, Role.ADMINISTRATOR):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def is_owner(request) -> bool:
    """Whether the page's user owns the business (what ``owner_required`` lets through)."""
    membership = getattr(request, "membership", None)
    return membership is not None and membership.role == Role.OWNER


def owner_required(view):
    """Owners only: what decides where the salon's money goes (bank settings) or speaks of
    it as a whole (reconciliation)."""

    @business_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_owner(request):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
