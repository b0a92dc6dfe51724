"""Mailbox pages; a mailbox is named by its full (stored) address."""

from django.urls import path

from mailboxes import vacation_views, views

app_name = "mailboxes"
urlpatterns = [
    path("", views.MailboxListView.as_view(), name="mailbox-list"),
    path("new/", views.MailboxCreateView.as_view(), name="mailbox-create"),
    # Before "<username>/": a mailbox's address always has an @, so this never collides.
    path("room/", views.MailboxRoomView.as_view(), name="mailbox-room"),
    path("<str:username>/", views.MailboxDetailView.as_view(), name="mailbox-detail"),
    path("<str:username>/edit/", views.MailboxUpdateView.as_view(), name="mailbox-edit"),
    path("<str:username>/password/", views.MailboxPasswordView.as_view(), name="mailbox-password"),
    path(
        "<str:username>/forwarding/",
        views.MailboxForwardingView.as_view(),
        name="mailbox-forwarding",
    ),
    path(
        "<str:username>/vacation/",
        vacation_views.MailboxVacationView.as_view(),
        name="mailbox-vacation",
    ),
    path(
        "<str:username>/send-settings/",
        views.MailboxSendSettingsView.as_view(),
        name="mailbox-send-settings",
    ),
    path("<str:username>/toggle/", views.MailboxToggleView.as_view(), name="mailbox-toggle"),
    path("<str:username>/purge/", views.MailboxPurgeView.as_view(), name="mailbox-purge"),
]
