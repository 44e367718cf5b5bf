from django.urls import path

from . import views

app_name = "salons"
urlpatterns = [
    # Clients
    path("clients/", views.client_list_view, name="clients"),
    path("clients/new/", views.client_new_view, name="client_new"),
    path("clients/<int:client_id>/", views.client_detail_view, name="client"),
    path("clients/<int:client_id>/edit/", views.client_edit_view, name="client_edit"),
    # Specialists and their schedules
    path("specialists/", views.specialist_list_view, name="specialists"),
    path("specialists/new/", views.specialist_new_view, name="specialist_new"),
    path("specialists/<int:specialist_id>/", views.specialist_edit_view, name="specialist_edit"),
    path(
        "specialists/<int:specialist_id>/photo/",
        views.specialist_photo_view,
        name="specialist_photo",
    ),
    path(
        "specialists/<int:specialist_id>/photo.jpg",
        views.specialist_photo_file_view,
        name="specialist_photo_file",
    ),
    path(
        "specialists/<int:specialist_id>/exceptions/",
        views.schedule_exception_add_view,
        name="schedule_exception_add",
    ),
    path(
        "specialists/exceptions/<int:exception_id>/remove/",
        views.schedule_exception_remove_view,
        name="schedule_exception_remove",
    ),
    # Services and their categories
    path("services/", views.service_list_view, name="services"),
    path("services/new/", views.service_new_view, name="service_new"),
    path("services/<int:service_id>/", views.service_edit_view, name="service_edit"),
    path("categories/new/", views.category_new_view, name="category_new"),
    path("categories/<int:category_id>/", views.category_edit_view, name="category_edit"),
    # Products
    path("products/", views.product_list_view, name="products"),
    path("products/new/", views.product_new_view, name="product_new"),
    path("products/<int:product_id>/", views.product_edit_view, name="product_edit"),
]
