from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "navbat.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.core.signals import request_started

        from .throttle import warn_untrusted_proxy

        request_started.connect(warn_untrusted_proxy, dispatch_uid="navbat.untrusted_proxy")
