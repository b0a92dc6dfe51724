"""Second-factor pages; the owner's ones are routed under /me/ by selfservice.urls."""

from twofactor.views.app_passwords import AppPasswordRevokeView, OwnerAppPasswordsView
from twofactor.views.exceptions import AdminExceptionsView, OwnerExceptionsView
from twofactor.views.login import CancelView, CodeView, ForcedEnrolView
from twofactor.views.own import AdminFactorView, AdminResetView, MailboxResetView, OwnerFactorView
from twofactor.views.policy import PolicyView

__all__ = [
    "AdminExceptionsView",
    "AdminFactorView",
    "AdminResetView",
    "AppPasswordRevokeView",
    "CancelView",
    "CodeView",
    "ForcedEnrolView",
    "MailboxResetView",
    "OwnerAppPasswordsView",
    "OwnerExceptionsView",
    "OwnerFactorView",
    "PolicyView",
]
