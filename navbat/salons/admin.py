from django.contrib import admin

from .models import (
    Business,
    CheckoutPoint,
    Client,
    Location,
    Product,
    ScheduleException,
    Service,
    ServiceCategory,
    Specialist,
    WorkingHours,
)


class LocationInline(admin.StackedInline):
    model = Location
    extra = 0


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "timezone", "created_at")
    search_fields = ("name", "slug")
    inlines = [LocationInline]


class TenantAdmin(admin.ModelAdmin):
    list_filter = ("business",)
    raw_id_fields = ("business",)


@admin.register(Location)
class LocationAdmin(TenantAdmin):
    list_display = ("name", "business", "address", "timezone")


@admin.register(CheckoutPoint)
class CheckoutPointAdmin(TenantAdmin):
    list_display = ("name", "location", "business")


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(TenantAdmin):
    list_display = ("name", "business", "position")


@admin.register(Service)
class ServiceAdmin(TenantAdmin):
    list_display = ("name", "business", "category", "price", "duration_minutes", "is_active")
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(TenantAdmin):
    list_display = ("name", "business", "price", "unit", "is_active")
    search_fields = ("name",)


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0
    exclude = ("business",)


@admin.register(Specialist)
class SpecialistAdmin(TenantAdmin):
    list_display = ("name", "business", "location", "position", "is_active")
    search_fields = ("name",)
    raw_id_fields = ("business", "membership")
    inlines = [WorkingHoursInline]


@admin.register(ScheduleException)
class ScheduleExceptionAdmin(TenantAdmin):
    list_display = ("specialist", "day", "is_day_off", "starts", "ends")


@admin.register(Client)
class ClientAdmin(TenantAdmin):
    list_display = ("name", "phone", "business", "email", "created_at")
    search_fields = ("name", "phone", "email")
