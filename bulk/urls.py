"""Bulk action pages, one per list."""

from django.urls import path

from bulk import views

app_name = "bulk"
urlpatterns = [
    path("mailboxes/", views.MailboxBulkView.as_view(), name="bulk-mailboxes"),
    path("aliases/", views.AliasBulkView.as_view(), name="bulk-aliases"),
    path("domains/", views.DomainBulkView.as_view(), name="bulk-domains"),
]
