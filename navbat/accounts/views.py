from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .forms import LoginForm


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _safe_next(request, fallback: str) -> str:
    """The ``next`` URL when it stays on this site; otherwise ``fallback`` (no open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _with_language_cookie(response, language: str):
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE or settings.SESSION_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
    )
    return response


@require_http_methods(["GET", "POST"])
def login_view(request):
    form = LoginForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        address = _client_address(request)
        if services.is_locked_out(email=email, address=address):
            error = _("Too many failed attempts. Try again in %(minutes)s minutes.") % {
                "minutes": settings.NAVBAT_LOGIN_LOCK_MINUTES
            }
        else:
            user = services.log_in(
                request=request,
                email=email,
                password=form.cleaned_data["password"],
                address=address,
            )
            if user is not None:
                login(request, user)
                # A user-given URL is never resolved as a view name: plain redirect only.
                target = _safe_next(request, resolve_url(settings.LOGIN_REDIRECT_URL))
                response = HttpResponseRedirect(target)
                return _with_language_cookie(response, user.preferred_language)
            error = _("Wrong e-mail or password.")
    # A refused or invalid login is a 400 whatever the reason; the page itself is a 200.
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/login.html",
        {"form": form, "error": error, "next": _safe_next(request, "")},
        status=status,
    )


@require_POST
def logout_view(request):
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@require_POST
def language_view(request):
    """Switch the language of every page; remembered in a cookie and on the user."""
    language = request.POST.get("language", "")
    back = _safe_next(request, "/")
    response = HttpResponseRedirect(back)
    if language in dict(settings.LANGUAGES) and check_for_language(language):
        services.set_language(user=request.user, language=language)
        _with_language_cookie(response, language)
    return response
