from django.urls import path

from . import views

app_name = "finance"
urlpatterns = [
    path("transactions/", views.transaction_list_view, name="transactions"),
    path("registers/", views.register_list_view, name="registers"),
    path("registers/new/", views.register_new_view, name="register_new"),
    path("registers/<int:register_id>/", views.register_edit_view, name="register_edit"),
]
