"""The operators' view of Uzum Bank connections: read-only, and the secrets only masked
(a connection is changed by the salon through the connect form, which checks the keys)."""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import Callback, Connection, MerchantTransaction, mask


class ReadOnlyAdmin(admin.ModelAdmin):
    """What the bank and the salon wrote is evidence: operators read it, never edit it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = ("business", "environment", "terminal_id", "is_active", "connected_at")
    list_filter = ("environment", "is_active")
    search_fields = ("terminal_id", "public_id", "business__name")
    exclude = ("api_key", "merchant_password")
    readonly_fields = ("public_id", "masked_api_key", "masked_merchant_password")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description=_("API key"))
    def masked_api_key(self, obj):
        return obj.masked_api_key

    @admin.display(description=_("Merchant API password"))
    def masked_merchant_password(self, obj):
        return mask(obj.merchant_password)


@admin.register(Callback)
class CallbackAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "business", "kind", "bank_order_id", "repeats", "outcome")
    list_filter = ("kind",)
    search_fields = ("bank_order_id", "order_number")


@admin.register(MerchantTransaction)
class MerchantTransactionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "business", "trans_id", "state", "amount", "payment_source")
    list_filter = ("state", "payment_source")
    search_fields = ("trans_id", "order__reference")
