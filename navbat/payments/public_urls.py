"""The client's Quick Payment page (public, no login)."""

from django.urls import path

from . import public_views as views

app_name = "pay"

urlpatterns = [
    path("<str:token>", views.pay_view, name="page"),
    path("<str:token>/card", views.pay_card_view, name="card"),
    path("<str:token>/watch", views.pay_watch_view, name="watch"),
    path("<str:token>/return/<str:reference>", views.pay_return_view, name="return"),
    path("<str:token>/status/<str:reference>", views.pay_status_view, name="status"),
]
