"""One's own second factor (enrol, remove, recovery codes) and a super admin's reset."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from accounts import flows as login_flows
from accounts.models import Admin
from accounts.owner_session import MailboxLoginRequiredMixin
from accounts.scoping import get_scoped_or_404, is_superadmin
from core.http import AuthedRequest
from core.views import (
    AdminRequiredMixin,
    SuperAdminRequiredMixin,
    apply_validation_error,
    current_password_checked,
    safe_next,
)
from mailboxes.models import Mailbox
from twofactor import flows, selectors, services, totp
from twofactor.forms import DisableForm, EnrolForm
from twofactor.views.common import NEW_SECRET_KEY, Realm, base_template, check_code_form, show_codes

# --------------------------------------------------------------------------------------------
# Enrolment, removal and recovery codes of one's own second factor


class OwnFactorMixin:
    """The page of the logged-in user's own second factor, for either realm."""

    request: HttpRequest
    realm: str

    def account(self) -> Admin | Mailbox:
        raise NotImplementedError

    def actor(self) -> object:
        raise NotImplementedError

    def new_secret(self) -> str:
        """Return the secret offered for enrolment, kept in the session until it is saved."""
        key = f"{NEW_SECRET_KEY}_{self.realm}"
        secret = self.request.session.get(key)
        if not isinstance(secret, str) or not totp.is_valid_secret(secret):
            secret = totp.new_secret()
            self.request.session[key] = secret
        return secret

    def forget_secret(self) -> None:
        self.request.session.pop(f"{NEW_SECRET_KEY}_{self.realm}", None)

    def enrol_context(self) -> dict[str, Any]:
        secret = self.new_secret()
        uri = totp.provisioning_uri(
            secret, account=self.account().pk, issuer=settings.VIMBADMIN_TOTP_ISSUER
        )
        spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        return {"secret": spaced, "qr": totp.qr_data_uri(uri), "otpauth_uri": uri}

    def enrol(self, form: EnrolForm) -> list[str] | None:
        """Save the offered secret if the code proves it; return the recovery codes, or None."""
        try:
            codes = services.totp_enrol(
                actor=self.actor(),
                account=self.account(),
                secret=self.new_secret(),
                code=form.cleaned_data["code"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
            return None
        self.forget_secret()
        return codes


@method_decorator([sensitive_post_parameters("password", "code"), never_cache], "dispatch")
class _OwnFactorView(OwnFactorMixin, View):
    """Show the state of one's second factor; set it up, remove it, or renew recovery codes."""

    template_name = "twofactor/manage.html"

    def render_page(self, **forms: Any) -> HttpResponse:
        account = self.account()
        enabled = selectors.has_totp(self.realm, account.pk)
        context: dict[str, Any] = {
            "base_template": base_template(self.realm),
            "available": selectors.totp_available(self.realm),
            "enabled": enabled,
            "account": account,
            "codes_left": selectors.recovery_codes_left(self.realm, account.pk),
            "enrol_form": forms.get("enrol_form") or EnrolForm(),
            "disable_form": forms.get("disable_form") or DisableForm(),
            "realm": self.realm,
            "may_set_policy": self.realm == Realm.ADMIN and is_superadmin(account),
        }
        if not enabled and context["available"]:
            context.update(self.enrol_context())
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        action = request.POST.get("action")
        account = self.account()
        if action == "enrol":
            enrol_form = EnrolForm(request.POST)
            codes = self.enrol(enrol_form) if enrol_form.is_valid() else None
            if codes is None:
                return self.render_page(enrol_form=enrol_form)
            return show_codes(request, self.realm, codes, _("Your second factor is set up."))
        if action == "disable":
            disable_form = DisableForm(request.POST)
            if self.disable_checks(disable_form, account):
                services.totp_disable(actor=self.actor(), account=account)
                # A policy that covers the account takes it to enrolment on the next request.
                flows.policy_recheck(request, self.realm)
                messages.success(request, _("Your second factor is removed."))
                return redirect(request.path)
            return self.render_page(disable_form=disable_form)
        if action == "renew":
            codes = services.recovery_codes_renew(actor=self.actor(), account=account)
            return show_codes(request, self.realm, codes, _("New recovery codes are made."))
        return redirect(request.path)

    def disable_checks(self, form: DisableForm, account: Admin | Mailbox) -> bool:
        """Check the form with the password, then the code, each counted like a login try.

        The code is checked only after a right password: a code is accepted once, so checking
        it beside a wrong password would use it up (a recovery code for good) for nothing.
        """
        realm = login_flows.REALMS[self.realm]
        if not current_password_checked(
            self.request, form, "password", realm=realm, account=account
        ):
            return False
        return check_code_form(self.request, form, self.realm, account)


class AdminFactorView(AdminRequiredMixin, _OwnFactorView):
    """An admin's own second factor."""

    request: AuthedRequest
    realm = Realm.ADMIN

    def account(self) -> Admin:
        return self.request.user

    def actor(self) -> object:
        return self.request.user


class OwnerFactorView(MailboxLoginRequiredMixin, _OwnFactorView):
    """A mailbox owner's own second factor."""

    realm = Realm.MAILBOX

    def account(self) -> Mailbox:
        return self.mailbox

    def actor(self) -> object:
        return self.mailbox.username


# --------------------------------------------------------------------------------------------
# A super admin's reset of another account's second factor


class _ResetView(SuperAdminRequiredMixin, View):
    """Remove another account's second factor (POST only); the user is told by mail."""

    http_method_names = ["post"]
    request: AuthedRequest
    model: type[Admin] | type[Mailbox]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = get_scoped_or_404(self.request.user, self.model, pk=kwargs["username"])
        try:
            services.totp_reset(actor=self.request.user, account=account)
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))
        else:
            messages.success(
                request, _("The second factor of %(address)s is removed.") % {"address": account}
            )
        return redirect(safe_next(request, reverse("twofactor:admin")))


class AdminResetView(_ResetView):
    model = Admin


class MailboxResetView(_ResetView):
    model = Mailbox
