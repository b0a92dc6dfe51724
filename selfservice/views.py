"""Pages of the mailbox owner's self-service area under /me/."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from accounts import flows, throttle
from accounts.models import AuthEvent
from accounts.owner_session import (
    MailboxLoginRequiredMixin,
    owner_logout,
    owner_mailbox,
    owner_refresh,
)
from accounts.resets import mailbox_reset_request
from core.context import request_client_address
from core.views import CurrentPasswordFormView, apply_validation_error, safe_next
from mailboxes.models import Mailbox
from mailboxes.selectors import (
    aliases_delivering_to,
    mailbox_alias_domains,
    mailbox_for_login,
    mailbox_password_changed,
    mailbox_used_bytes,
)
from mailboxes.services import (
    mailbox_forwarding,
    mailbox_reset_password,
    mailbox_set_password,
)
from mailboxes.tokens import decode_uid, mailbox_reset_token
from mailboxes.vacation import vacation_get
from selfservice.forms import (
    MailboxLoginForm,
    MailboxPasswordChangeForm,
    MailboxPasswordResetForm,
    MailboxSetPasswordForm,
)
from selfservice.mail_views import TIME_ZONE_SESSION_KEY
from twofactor.selectors import (
    app_passwords_available,
    app_passwords_of,
    has_totp,
    totp_available,
)

REALM = AuthEvent.Realm.MAILBOX
# Stands in for the token in the address bar once it is checked, so it cannot leak via Referer.
RESET_URL_TOKEN = "set-password"  # noqa: S105 (a URL segment, not a secret)
RESET_SESSION_TOKEN = "vimb_mailbox_reset_token"  # noqa: S105 (a session key)


def _apply_password_error(form: Form, exc: ValidationError) -> None:
    # The service names its field "password"; these forms call it "new_password1".
    if hasattr(exc, "error_dict") and "password" in exc.error_dict:
        for error in exc.error_dict.pop("password"):
            form.add_error("new_password1", error)
        if not exc.error_dict:
            return
    apply_validation_error(form, exc)


def reset_enabled() -> bool:
    """Tell whether the operator allows owners to reset a forgotten password."""
    return bool(getattr(settings, "VIMBADMIN_SELF_SERVICE_PASSWORD_RESET", True))


class MailboxLoginView(FormView):
    """Log a mailbox owner in with the mail address and the mailbox password."""

    form_class = MailboxLoginForm
    template_name = "selfservice/login.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if owner_mailbox(request) is not None:
            return HttpResponseRedirect(reverse("selfservice:overview"))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["reset_enabled"] = reset_enabled()
        context["next"] = self.request.POST.get("next") or self.request.GET.get("next", "")
        return context

    def form_valid(self, form: MailboxLoginForm) -> HttpResponse:
        outcome = flows.log_in(
            self.request,
            flows.MAILBOX,
            address=form.cleaned_data["address"],
            password=form.cleaned_data["password"],
        )
        if outcome.error:
            form.add_error(None, outcome.error)
            return self.form_invalid(form)
        if outcome.second_step:
            return HttpResponseRedirect(flows.second_step_url(self.request, outcome.second_step))
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self) -> str:
        target = safe_next(self.request, reverse("selfservice:overview"))
        # Only pages of this area: an admin URL would just bounce to the admin login.
        return (
            target
            if target.startswith(reverse("selfservice:overview"))
            else reverse("selfservice:overview")
        )


class MailboxLogoutView(View):
    """Log the mailbox owner out (POST only), leaving an admin login alone."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        mailbox = owner_mailbox(request)
        owner_logout(request)
        if mailbox is not None:
            throttle.record(
                realm=REALM,
                kind=AuthEvent.Kind.LOGOUT,
                username=mailbox.username,
                client_address=request_client_address(request),
            )
        messages.success(request, _("You have been logged out."))
        return HttpResponseRedirect(reverse("selfservice:login"))


class MailboxOverviewView(MailboxLoginRequiredMixin, TemplateView):
    """Show the owner's mailbox: name, quota and usage, aliases and forwarding."""

    template_name = "selfservice/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        mailbox = self.mailbox
        used = mailbox_used_bytes(mailbox)
        forwards, keep_copy = mailbox_forwarding(mailbox)
        percent = None
        if used is not None and mailbox.quota > 0:
            percent = min(round(used * 100 / mailbox.quota), 100)
        context.update(
            mailbox=mailbox,
            used=used,
            percent=percent,
            # Other tenants' aliases are counted, never named (they are not the owner's to see).
            delivering=aliases_delivering_to(mailbox),
            alias_domain_addresses=mailbox_alias_domains(mailbox),
            forwards=forwards,
            keep_copy=keep_copy,
            vacation=vacation_get(mailbox),
            vacation_zone=self.request.session.get(TIME_ZONE_SESSION_KEY, ""),
            password_changed=mailbox_password_changed(mailbox),
            totp_available=totp_available(REALM),
            has_totp=has_totp(REALM, mailbox.username),
            app_passwords=(len(app_passwords_of(mailbox)) if app_passwords_available() else None),
        )
        return context


class MailboxPasswordChangeView(MailboxLoginRequiredMixin, CurrentPasswordFormView):
    """Change the owner's password after checking the current one."""

    form_class = MailboxPasswordChangeForm
    template_name = "selfservice/password_change.html"
    success_url = reverse_lazy("selfservice:overview")
    # Guessing the current password in a left-open session counts like guessing at login.
    password_realm = flows.MAILBOX

    def password_account(self) -> Mailbox:
        return self.mailbox

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["mailbox"] = self.mailbox
        return kwargs

    def form_valid(self, form: MailboxPasswordChangeForm) -> HttpResponse:
        mailbox = self.mailbox
        try:
            mailbox_set_password(
                actor=mailbox.username,
                mailbox=mailbox,
                password=form.cleaned_data["new_password1"],
            )
        except ValidationError as exc:
            _apply_password_error(form, exc)
            return self.form_invalid(form)
        # This session stays logged in; every other one fails its fingerprint check.
        owner_refresh(self.request, mailbox)
        messages.success(self.request, _("Your password has been changed."))
        return HttpResponseRedirect(self.get_success_url())


class ResetEnabledMixin:
    """Answer 404 on every reset page when the operator has switched the feature off."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not reset_enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class MailboxPasswordResetView(ResetEnabledMixin, FormView):
    """Send a reset link to the mailbox's alternative address; answer the same in every case."""

    form_class = MailboxPasswordResetForm
    template_name = "selfservice/password_reset.html"
    success_url = reverse_lazy("selfservice:password-reset-done")

    def form_valid(self, form: MailboxPasswordResetForm) -> HttpResponse:
        address = form.cleaned_data["address"]
        client = request_client_address(self.request)
        if throttle.reset_allowed(realm=REALM, username=address, client_address=client):
            # Queued for the background sender, so a slow mail server does not show either.
            mailbox_reset_request(address=address, request=self.request)
        return HttpResponseRedirect(self.get_success_url())


class MailboxPasswordResetDoneView(ResetEnabledMixin, TemplateView):
    """Say that a link was sent if the mailbox can receive one, without saying whether."""

    template_name = "selfservice/password_reset_done.html"


class MailboxPasswordResetConfirmView(FormView):
    """Check a reset link and let the owner choose a new password."""

    form_class = MailboxSetPasswordForm
    template_name = "selfservice/password_reset_confirm.html"
    success_url = reverse_lazy("selfservice:password-reset-complete")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not reset_enabled():
            raise Http404
        self.mailbox = self._mailbox(kwargs["uidb64"])
        token = kwargs["token"]
        if token != RESET_URL_TOKEN:
            if self.mailbox is not None and mailbox_reset_token.check_token(self.mailbox, token):
                # Move the token from the URL into the session, as Django's own reset view does.
                request.session[RESET_SESSION_TOKEN] = token
                return HttpResponseRedirect(
                    reverse(
                        "selfservice:password-reset-confirm",
                        kwargs={"uidb64": kwargs["uidb64"], "token": RESET_URL_TOKEN},
                    )
                )
            self.token = None
        else:
            stored = request.session.get(RESET_SESSION_TOKEN, "")
            valid = self.mailbox is not None and mailbox_reset_token.check_token(
                self.mailbox, stored
            )
            self.token = stored if valid else None
        if self.token is None:
            return self.render_to_response({"validlink": False})
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def _mailbox(uidb64: str) -> Mailbox | None:
        username = decode_uid(uidb64)
        if not username:
            return None
        mailbox = mailbox_for_login(username)
        if mailbox is None or not mailbox.active or not mailbox.domain.active:
            return None
        return mailbox

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(validlink=True, mailbox=self.mailbox)
        return context

    def form_valid(self, form: MailboxSetPasswordForm) -> HttpResponse:
        # dispatch() only gets here with a checked mailbox and token.
        assert self.mailbox is not None and self.token is not None
        mailbox = self.mailbox
        try:
            mailbox_reset_password(
                mailbox=mailbox, token=self.token, password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            _apply_password_error(form, exc)
            return self.form_invalid(form)
        self.request.session.pop(RESET_SESSION_TOKEN, None)
        throttle.record(
            realm=REALM,
            kind=AuthEvent.Kind.RESET_DONE,
            username=mailbox.username,
            client_address=request_client_address(self.request),
        )
        return HttpResponseRedirect(self.get_success_url())


class MailboxPasswordResetCompleteView(ResetEnabledMixin, TemplateView):
    """Confirm that the new password is set and point to the owner login."""

    template_name = "selfservice/password_reset_complete.html"
