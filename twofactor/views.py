"""The code page of a held login, enrolment, removal, recovery codes and a super admin's reset."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView

from accounts import flows as login_flows
from accounts.models import Admin, AuthEvent
from accounts.owner_session import MailboxLoginRequiredMixin
from accounts.scoping import get_scoped_or_404, is_superadmin
from core.http import AuthedRequest
from core.views import (
    AdminRequiredMixin,
    SuperAdminRequiredMixin,
    apply_validation_error,
    safe_next,
)
from mailboxes.models import Mailbox
from pfa.models import MailboxAppPassword, TotpExceptionAddress
from twofactor import flows, selectors, services, totp
from twofactor.forms import (
    AppPasswordForm,
    CodeForm,
    DisableForm,
    EnrolForm,
    ExceptionForm,
    OwnerExceptionForm,
    PolicyForm,
)

Realm = AuthEvent.Realm
NEW_SECRET_KEY = "vimb_2fa_new_secret"  # noqa: S105 (a session key name)


def _home(realm: str) -> str:
    if realm == Realm.MAILBOX:
        return reverse("selfservice:overview")
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _login_page(realm: str) -> str:
    return reverse("selfservice:login" if realm == Realm.MAILBOX else "accounts:login")


def _after_login(request: HttpRequest, realm: str) -> str:
    target = safe_next(request, _home(realm))
    # An owner only reaches the owner's pages; an admin URL would bounce to the admin login.
    if realm == Realm.MAILBOX and not target.startswith(reverse("selfservice:overview")):
        return _home(realm)
    return target


def _wrong_code() -> str:
    return _("The code is not correct.")


def _check(request: HttpRequest, form: Any, realm: str, account: Admin | Mailbox) -> bool:
    """Check the form's code like a login try; put the error on the form."""
    check = flows.check_code(request, realm, account, form.cleaned_data["code"])
    if check.retry_after:
        form.add_error(None, login_flows.locked_message(check.retry_after))
    elif not check.accepted:
        form.add_error("code", _wrong_code())
    return check.accepted


def _base_template(realm: str) -> str:
    return "selfservice/base.html" if realm == Realm.MAILBOX else "base.html"


# --------------------------------------------------------------------------------------------
# The second step of a login


@method_decorator([sensitive_post_parameters("code"), never_cache], "dispatch")
class CodeView(FormView):
    """Ask a held login for its code; only a right one (or a recovery code) opens a session."""

    form_class = CodeForm
    template_name = "twofactor/code.html"
    held: flows.Held

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        held = flows.held(request)
        if held is None or held.step != flows.CODE:
            messages.info(request, _("Log in with your password first."))
            return redirect(_login_page(request.GET.get("realm", "")))
        self.held = held
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            base_template=_base_template(self.held.realm),
            next=safe_next(self.request, ""),
            account=self.held.account,
        )
        return context

    def form_valid(self, form: CodeForm) -> HttpResponse:
        if not _check(self.request, form, self.held.realm, self.held.account):
            return self.form_invalid(form)
        login_flows.finish_login(self.request, self.held.realm, self.held.account)
        return HttpResponseRedirect(_after_login(self.request, self.held.realm))


class CancelView(View):
    """Abandon a held login (POST only)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        held = flows.held(request)
        flows.release(request)
        return redirect(_login_page(held.realm if held else ""))


# --------------------------------------------------------------------------------------------
# Enrolment, removal and recovery codes of one's own second factor


class _OwnFactorMixin:
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
class _OwnFactorView(_OwnFactorMixin, View):
    """Show the state of one's second factor; set it up, remove it, or renew recovery codes."""

    template_name = "twofactor/manage.html"

    def render_page(self, **forms: Any) -> HttpResponse:
        account = self.account()
        enabled = selectors.has_totp(self.realm, account.pk)
        context: dict[str, Any] = {
            "base_template": _base_template(self.realm),
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
            return _show_codes(request, self.realm, codes, _("Your second factor is set up."))
        if action == "disable":
            disable_form = DisableForm(request.POST)
            if disable_form.is_valid() and self.disable_checks(disable_form, account):
                services.totp_disable(actor=self.actor(), account=account)
                messages.success(request, _("Your second factor is removed."))
                return redirect(request.path)
            return self.render_page(disable_form=disable_form)
        if action == "renew":
            codes = services.recovery_codes_renew(actor=self.actor(), account=account)
            return _show_codes(request, self.realm, codes, _("New recovery codes are made."))
        return redirect(request.path)

    def disable_checks(self, form: DisableForm, account: Admin | Mailbox) -> bool:
        """Check the password, then the code, each counted like a login try."""
        error = login_flows.check_current_password(
            self.request,
            login_flows.REALMS[self.realm],
            account=account,
            password=form.cleaned_data["password"],
        )
        if error:
            form.add_error("password", error)
            return False
        return _check(self.request, form, self.realm, account)


def _show_codes(request: HttpRequest, realm: str, codes: list[str], title: str) -> HttpResponse:
    """Show recovery codes once (the response is never cached; they are stored hashed)."""
    context = {
        "base_template": _base_template(realm),
        "codes": codes,
        "title": title,
        "continue_url": request.path if realm == Realm.ADMIN else reverse("selfservice:twofactor"),
    }
    return render(request, "twofactor/recovery_codes.html", context)


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


@method_decorator([sensitive_post_parameters("code"), never_cache], "dispatch")
class ForcedEnrolView(_OwnFactorMixin, View):
    """Set up the second factor the policy demands, right after the password; nothing else opens."""

    held: flows.Held

    @property
    def realm(self) -> str:  # type: ignore[override]
        return self.held.realm

    def account(self) -> Admin | Mailbox:
        return self.held.account

    def actor(self) -> object:
        account = self.held.account
        return account if isinstance(account, Admin) else account.username

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        held = flows.held(request)
        if held is None or held.step != flows.ENROL:
            messages.info(request, _("Log in with your password first."))
            return redirect(_login_page(""))
        self.held = held
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, form: EnrolForm) -> HttpResponse:
        context = {
            "base_template": _base_template(self.realm),
            "form": form,
            "account": self.held.account,
            "next": safe_next(self.request, ""),
            **self.enrol_context(),
        }
        return render(self.request, "twofactor/enrol.html", context)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page(EnrolForm())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = EnrolForm(request.POST)
        codes = self.enrol(form) if form.is_valid() else None
        if codes is None:
            return self.render_page(form)
        realm, account = self.realm, self.held.account
        target = _after_login(request, realm)
        login_flows.finish_login(request, realm, account)
        context = {
            "base_template": _base_template(realm),
            "codes": codes,
            "title": _("Your second factor is set up."),
            "continue_url": target,
        }
        return render(request, "twofactor/recovery_codes.html", context)


# --------------------------------------------------------------------------------------------
# App passwords


@method_decorator(never_cache, "dispatch")
class OwnerAppPasswordsView(MailboxLoginRequiredMixin, View):
    """A mailbox owner's app passwords: create one (shown once), see when, revoke."""

    template_name = "twofactor/app_passwords.html"

    def render_page(self, form: AppPasswordForm | None = None, created: str = "") -> HttpResponse:
        context = {
            "available": selectors.app_passwords_available(),
            "app_passwords": selectors.app_passwords_of(self.mailbox),
            "form": form or AppPasswordForm(),
            "created": created,
        }
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("action") == "revoke":
            row = MailboxAppPassword.objects.filter(
                pk=_int(request.POST.get("id")), username=self.mailbox.username
            ).first()
            if row is None:
                raise Http404
            services.app_password_revoke(actor=self.mailbox.username, app_password=row)
            messages.success(request, _("The app password is revoked."))
            return redirect(request.path)
        form = AppPasswordForm(request.POST)
        if not form.is_valid():
            return self.render_page(form)
        try:
            raw = services.app_password_create(
                actor=self.mailbox.username,
                mailbox=self.mailbox,
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
            return self.render_page(form)
        return self.render_page(created=raw)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0


class AppPasswordRevokeView(AdminRequiredMixin, View):
    """An admin revokes an app password of a mailbox in scope (POST only); else a 404."""

    http_method_names = ["post"]
    request: AuthedRequest

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        row = selectors.app_password_in_scope(self.request.user, _int(kwargs["pk"]))
        if row is None:
            raise Http404
        services.app_password_revoke(actor=self.request.user, app_password=row)
        messages.success(request, _("The app password is revoked."))
        return redirect(safe_next(request, reverse("mailboxes:mailbox-list")))


# --------------------------------------------------------------------------------------------
# Policy


class PolicyView(SuperAdminRequiredMixin, FormView):
    """Super admins choose who must log in with a second factor."""

    form_class = PolicyForm
    template_name = "twofactor/policy.html"
    request: AuthedRequest

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        policy = selectors.twofactor_policy()
        return {
            "superadmins": policy.superadmins,
            "domain_admins": policy.domain_admins,
            "domains": "\n".join(selectors.policy_domains()),
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["available"] = selectors.totp_available(Realm.ADMIN)
        return context

    def form_valid(self, form: PolicyForm) -> HttpResponse:
        try:
            services.twofactor_policy_set(
                actor=self.request.user,
                superadmins=form.cleaned_data["superadmins"],
                domain_admins=form.cleaned_data["domain_admins"],
                domains=form.cleaned_data["domains"],
            )
        except (PermissionDenied, ValidationError) as exc:
            form.add_error(None, " ".join(getattr(exc, "messages", None) or [str(exc)]))
            return self.form_invalid(form)
        messages.success(self.request, _("Saved. It applies from each user's next login."))
        return redirect(reverse("twofactor:policy"))


# --------------------------------------------------------------------------------------------
# TOTP exception addresses


def _exception_post(
    request: HttpRequest, actor: object, form: OwnerExceptionForm, username: str | None
) -> bool:
    """Add the exception of a valid form; put a refusal on the form."""
    try:
        services.totp_exception_add(
            actor=actor,
            ip=form.cleaned_data["ip"],
            username=username,
            description=form.cleaned_data["description"],
        )
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return False
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return False
    messages.success(request, _("The exception address is added."))
    return True


@method_decorator(never_cache, "dispatch")
class AdminExceptionsView(AdminRequiredMixin, View):
    """TOTP exception addresses of the admin's domains (super admins: all, and for everyone)."""

    request: AuthedRequest

    def render_page(self, form: ExceptionForm | None = None) -> HttpResponse:
        user = self.request.user
        context = {
            "exceptions": selectors.totp_exceptions_for_admin(user),
            "form": form or ExceptionForm(),
            "is_super": is_superadmin(user),
            "base_template": "base.html",
        }
        return render(self.request, "twofactor/exceptions.html", context)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = self.request.user
        if request.POST.get("action") == "delete":
            visible = {row.pk: row for row in selectors.totp_exceptions_for_admin(user)}
            row = visible.get(_int(request.POST.get("id")))
            if row is None:
                raise Http404
            try:
                services.totp_exception_delete(actor=user, exception=row)
            except PermissionDenied as exc:
                messages.error(request, str(exc))
            return redirect(request.path)
        form = ExceptionForm(request.POST)
        if form.is_valid() and _exception_post(
            request, user, form, form.cleaned_data.get("username")
        ):
            return redirect(request.path)
        return self.render_page(form)


@method_decorator(never_cache, "dispatch")
class OwnerExceptionsView(MailboxLoginRequiredMixin, View):
    """A mailbox owner's own TOTP exception addresses (and those set for them, read only)."""

    def render_page(self, form: OwnerExceptionForm | None = None) -> HttpResponse:
        context = {
            "exceptions": selectors.totp_exceptions_for_owner(self.mailbox),
            "form": form or OwnerExceptionForm(),
            "own": self.mailbox.username,
            "base_template": "selfservice/base.html",
        }
        return render(self.request, "twofactor/exceptions.html", context)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        owner = self.mailbox.username
        if request.POST.get("action") == "delete":
            row = TotpExceptionAddress.objects.filter(
                pk=_int(request.POST.get("id")), username=owner
            ).first()
            if row is None:
                raise Http404
            services.totp_exception_delete(actor=owner, exception=row)
            return redirect(request.path)
        form = OwnerExceptionForm(request.POST)
        if form.is_valid() and _exception_post(request, owner, form, owner):
            return redirect(request.path)
        return self.render_page(form)
