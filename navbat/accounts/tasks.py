"""Background jobs of accounts: the password-reset e-mail."""

from django_tasks import task


@task()
def send_password_reset(email: str) -> None:
    """E-mail a one-time link to set a new password to each active user of ``email`` (none
    when no one uses it: the request that queued this cannot tell)."""
    from .mail import send_password_reset_links

    send_password_reset_links(email=email)
