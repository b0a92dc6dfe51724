"""The audit log page."""

from django.urls import path

from auditlog import views

app_name = "auditlog"
urlpatterns = [
    path("", views.LogListView.as_view(), name="log-list"),
    path("access/", views.AccessListView.as_view(), name="log-access"),
]
