from django.contrib import admin

from .models import CashRegister, SaleDocument, Transaction


@admin.register(CashRegister)
class CashRegisterAdmin(admin.ModelAdmin):
    list_display = ("name", "business", "kind", "is_active")
    list_filter = ("kind", "business")


@admin.register(SaleDocument)
class SaleDocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "business", "kind", "amount_due", "created_at")
    raw_id_fields = ("business", "client")


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    """Read-only: the books are changed through services (reversals), never edited by hand."""

    list_display = ("occurred_at", "business", "register", "direction", "kind", "amount")
    list_filter = ("direction", "kind", "business")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
