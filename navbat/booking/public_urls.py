"""The salon's public booking widget and the client's booking page (public, no login)."""

from django.urls import path

from . import manage_views, widget_book, widget_views

app_name = "booking_public"

urlpatterns = [
    # The client's booking page: the token is the authority.
    path("b/<str:token>/", manage_views.booking_view, name="manage"),
    path("b/<str:token>/pay", manage_views.pay_view, name="manage_pay"),
    path("b/<str:token>/cancel", manage_views.cancel_view, name="manage_cancel"),
    path("b/<str:token>/move", manage_views.move_view, name="manage_move"),
    path("b/<str:token>/calendar.ics", manage_views.calendar_view, name="manage_ics"),
    # The widget: the location's public slug is the authority.
    path("<slug:slug>/", widget_views.widget_view, name="widget"),
    path("<slug:slug>/specialist", widget_views.specialist_view, name="specialist"),
    path("<slug:slug>/day", widget_views.day_view, name="day"),
    path("<slug:slug>/time", widget_views.time_view, name="time"),
    path("<slug:slug>/details", widget_book.details_view, name="details"),
    path(
        "<slug:slug>/specialists/<int:specialist_id>/photo",
        widget_views.photo_view,
        name="photo",
    ),
]
