"""The password-reset e-mail, in the user's own language, with a link to the public URL."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from navbat.kit.urls import public_url


def _recipients(*, email: str | None, user_ids: list[int] | None):
    if user_ids is not None:
        users = get_user_model()._default_manager.filter(pk__in=user_ids, is_active=True)
        return [user for user in users.order_by("pk") if user.has_usable_password()]
    return list(PasswordResetForm().get_users(email or ""))


def send_password_reset_links(
    *, email: str | None = None, user_ids: list[int] | None = None
) -> int:
    """Send the reset link to each of ``user_ids`` (or, for an old job, each user of
    ``email``) that is active and has a usable password; returns how many were sent."""
    sent = 0
    for user in _recipients(email=email, user_ids=user_ids):
        link = public_url(
            "accounts:password_reset_confirm",
            uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
            token=default_token_generator.make_token(user),
        )
        # The link is built on NAVBAT_PUBLIC_URL, never on the Host header of the request
        # that asked (anyone can send that header, and the link carries the token).
        context = {
            "user": user,
            "link": link,
            "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        }
        language = user.preferred_language or settings.LANGUAGE_CODE
        with translation.override(language):
            subject = render_to_string("accounts/password_reset_subject.txt", context)
            body = render_to_string("accounts/password_reset_email.txt", context)
        message = EmailMessage(
            subject=" ".join(subject.split()),
            body=body,
            to=[user.email],
            headers={"Content-Language": language},
        )
        message.send()
        sent += 1
    return sent
