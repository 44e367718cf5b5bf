from django.urls import path

from . import views

app_name = "salons"
urlpatterns = [
    path("clients/", views.client_list_view, name="clients"),
    path("specialists/", views.specialist_list_view, name="specialists"),
]
