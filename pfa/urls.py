"""The audit log page."""

from django.urls import path

from pfa import views

app_name = "pfa"
urlpatterns = [
    path("", views.LogListView.as_view(), name="log-list"),
]
