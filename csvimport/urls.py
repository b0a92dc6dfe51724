"""CSV import pages, one per kind."""

from django.urls import path

from csvimport import views

app_name = "csvimport"
urlpatterns = [
    path("domains/", views.ImportView.as_view(kind="domains"), name="import-domains"),
    path("mailboxes/", views.ImportView.as_view(kind="mailboxes"), name="import-mailboxes"),
    path("aliases/", views.ImportView.as_view(kind="aliases"), name="import-aliases"),
]
