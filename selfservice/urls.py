"""Routes of the mailbox owner's self-service area, included at /me/."""

from django.urls import path

from selfservice import views
from twofactor.views import OwnerAppPasswordsView, OwnerExceptionsView, OwnerFactorView

app_name = "selfservice"
urlpatterns = [
    path("", views.MailboxOverviewView.as_view(), name="overview"),
    path("login/", views.MailboxLoginView.as_view(), name="login"),
    path("logout/", views.MailboxLogoutView.as_view(), name="logout"),
    path("password/", views.MailboxPasswordChangeView.as_view(), name="password"),
    path("two-factor/", OwnerFactorView.as_view(), name="twofactor"),
    path("app-passwords/", OwnerAppPasswordsView.as_view(), name="app-passwords"),
    path("totp-exceptions/", OwnerExceptionsView.as_view(), name="totp-exceptions"),
    path("password-reset/", views.MailboxPasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/sent/",
        views.MailboxPasswordResetDoneView.as_view(),
        name="password-reset-done",
    ),
    path(
        "password-reset/<str:uidb64>/<str:token>/",
        views.MailboxPasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/complete/",
        views.MailboxPasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
]
