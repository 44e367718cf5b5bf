from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .devices import remember_device
from .forms import LoginForm, ThrottledPasswordChangeForm
from .throttle import client_address, retry_after, throttled_message


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
    status = 200
    if request.method == "POST" and form.is_valid():
        user = services.log_in(
            request=request,
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
        )
        if user is not None:
            login(request, user)
            # A user-given URL is never resolved as a view name: plain redirect only.
            target = _safe_next(request, resolve_url(settings.LOGIN_REDIRECT_URL))
            response = HttpResponseRedirect(target)
            remember_device(request=request, response=response, email=user.email)
            return _with_language_cookie(response, user.preferred_language)
        if getattr(request, "axes_locked_out", False):
            error, status = throttled_message(retry_after(request)), 429
        else:
            error = _("Wrong e-mail or password.")
    # A refused or invalid login is a 400 whatever the reason; the page itself is a 200.
    if request.method == "POST" and status == 200:
        status = 400
    response = render(
        request,
        "accounts/login.html",
        {"form": form, "error": error, "next": _safe_next(request, "")},
        status=status,
    )
    if status == 429:
        response["Retry-After"] = str(retry_after(request))
        # axes's middleware would put its own page in place of a refused login; this one
        # already says it, with the form.
        response.navbat_throttled = True
    return response


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


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")
    form_class = ThrottledPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled_for:
            response.status_code = 429
            response["Retry-After"] = str(form.throttled_for)
            # The form says it already; axes's middleware would replace the page.
            response.navbat_throttled = True
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link. The answer is the same "sent" page whether or not the e-mail is
    known (the e-mail goes out from the worker); only a client address over its hourly
    share is told to wait."""

    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_sent")

    def form_valid(self, form):
        answer = services.request_password_reset(
            email=form.cleaned_data["email"], address=client_address(self.request)
        )
        if answer is services.ResetAnswer.ADDRESS_EXHAUSTED:
            context = self.get_context_data(
                form=form, error=_("Too many requests. Try again later.")
            )
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = "3600"
            return response
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(minutes=settings.PASSWORD_RESET_TIMEOUT // 60, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.forget_failures(email=self.user.email)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
