"""Routes of the mailbox owner's self-service area, included at /me/."""

from django.urls import path

from selfservice import mail_views, views
from twofactor.views import OwnerAppPasswordsView, OwnerExceptionsView, OwnerFactorView

app_name = "selfservice"
urlpatterns = [
    path("", views.MailboxOverviewView.as_view(), name="overview"),
    path("login/", views.MailboxLoginView.as_view(), name="login"),
    path("logout/", views.MailboxLogoutView.as_view(), name="logout"),
    path("password/", views.MailboxPasswordChangeView.as_view(), name="password"),
    path("forwarding/", mail_views.OwnerForwardingView.as_view(), name="forwarding"),
    path("vacation/", mail_views.OwnerVacationView.as_view(), name="vacation"),
    path("alternative-address/", mail_views.OwnerEmailOtherView.as_view(), name="email-other"),
    path(
        "alternative-address/confirm/<str:token>/",
        mail_views.OwnerEmailOtherConfirmView.as_view(),
        name="email-other-confirm",
    ),
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
