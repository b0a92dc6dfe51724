"""Routes of second factors, included at /2fa/."""

from django.urls import path

from twofactor import views

app_name = "twofactor"
urlpatterns = [
    path("code/", views.CodeView.as_view(), name="code"),
    path("cancel/", views.CancelView.as_view(), name="cancel"),
    path("enrol/", views.ForcedEnrolView.as_view(), name="enrol"),
    path("", views.AdminFactorView.as_view(), name="admin"),
    path(
        "app-passwords/<str:pk>/revoke/",
        views.AppPasswordRevokeView.as_view(),
        name="app-password-revoke",
    ),
    path("policy/", views.PolicyView.as_view(), name="policy"),
    path("exceptions/", views.AdminExceptionsView.as_view(), name="exceptions"),
    path("reset/admin/<str:username>/", views.AdminResetView.as_view(), name="reset-admin"),
    path("reset/mailbox/<str:username>/", views.MailboxResetView.as_view(), name="reset-mailbox"),
]
