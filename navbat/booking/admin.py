from django.contrib import admin

from .models import Appointment, AppointmentLine


class LineInline(admin.TabularInline):
    model = AppointmentLine
    extra = 0
    exclude = ("business",)
    raw_id_fields = ("service", "product")


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ("starts_at", "business", "specialist", "client", "status", "total")
    list_filter = ("status", "business")
    raw_id_fields = ("business", "location", "specialist", "client", "document", "created_by")
    inlines = [LineInline]
