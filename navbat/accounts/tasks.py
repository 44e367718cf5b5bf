"""Background jobs of accounts: the password-reset e-mail."""

from django_tasks import task


@task()
def send_password_reset(email: str | None = None, user_ids: list[int] | None = None) -> None:
    """E-mail a one-time link to set a new password to each of ``user_ids`` still active with
    a usable password (none for an e-mail no one uses: the request that queued this cannot
    tell). ``email`` only for jobs queued before the ids (new jobs never carry it)."""
    from .mail import send_password_reset_links

    send_password_reset_links(email=email, user_ids=user_ids)
