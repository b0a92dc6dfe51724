"""Admin login, logout, password reset and change, and the management of admins."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import DetailView, FormView, ListView

from accounts import flows, services, throttle
from accounts.forms import (
    AdminCreateForm,
    AdminEditForm,
    AdminFilterForm,
    AdminPasswordForm,
    AdminPasswordResetForm,
    AdminSetPasswordForm,
    AssignAdminForm,
    AssignDomainForm,
    LoginForm,
    PasswordChangeForm,
)
from accounts.models import Admin, AuthEvent
from accounts.resets import (
    admin_reset_request,
    admin_reset_route,
    admin_reset_token,
    admins_with_reset_in,
    stored_superadmin,
)
from accounts.scoping import get_scoped_or_404
from accounts.selectors import admin_domains, admin_list, domain_admins
from accounts.tables import AdminTable
from core.context import request_client_address
from core.http import AuthedRequest
from core.listing.pagination import ListPaginationMixin
from core.views import (
    AdminRequiredMixin,
    CurrentPasswordFormView,
    ScopedObjectMixin,
    SuperAdminRequiredMixin,
    ToggleActiveView,
    apply_validation_error,
    safe_next,
)
from domains.models import Domain
from mail.names import address_to_unicode

REALM = AuthEvent.Realm.ADMIN


def _error_text(exc: ValidationError | PermissionDenied) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


def _warn_about_resets(request: HttpRequest, admins: list[Admin], *, off: bool = True) -> None:
    # Said when the change is made, not discovered when someone is locked out.
    for admin in admins:
        route = admin_reset_route(admin)
        if not route.allowed and (off or not route.off):
            messages.warning(
                request,
                _("Password reset links for %(admin)s will not be mailed: %(reason)s")
                % {"admin": admin, "reason": route.problem},
            )


# --------------------------------------------------------------------------------------------
# Login and logout


@method_decorator([sensitive_post_parameters("password"), csrf_protect, never_cache], "dispatch")
class LoginView(FormView):
    """Log an admin in through the one login flow (throttled, one answer for every failure)."""

    form_class = LoginForm
    template_name = "accounts/login.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return HttpResponseRedirect(self.get_success_url())
        return super().get(request, *args, **kwargs)

    def get_success_url(self) -> str:
        return safe_next(self.request, resolve_url(settings.LOGIN_REDIRECT_URL))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["next"] = safe_next(self.request, "")
        return context

    def form_valid(self, form: LoginForm) -> HttpResponse:
        outcome = flows.log_in(
            self.request,
            flows.ADMIN,
            address=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if outcome.error:
            form.add_error(None, outcome.error)
            return self.form_invalid(form)
        if outcome.second_step:
            return HttpResponseRedirect(flows.second_step_url(self.request, outcome.second_step))
        return HttpResponseRedirect(self.get_success_url())


class LogoutView(View):
    """Log the admin out (POST only, so a link or image cannot do it)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            throttle.record(
                realm=REALM,
                kind=AuthEvent.Kind.LOGOUT,
                username=request.user.pk,
                client_address=request_client_address(request),
            )
        logout(request)
        messages.info(request, _("You are logged out."))
        return redirect(settings.LOGOUT_REDIRECT_URL)


# --------------------------------------------------------------------------------------------
# Forgotten password


@method_decorator(csrf_protect, "dispatch")
class PasswordResetView(FormView):
    """Mail a reset link; the answer is the same for unknown addresses and throttled tries."""

    form_class = AdminPasswordResetForm
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("accounts:password-reset-done")

    def form_valid(self, form: AdminPasswordResetForm) -> HttpResponse:
        address = form.cleaned_data["email"]
        client = request_client_address(self.request)
        if not throttle.reset_allowed(realm=REALM, username=address, client_address=client):
            # Same page as a sent mail: the limit must not tell an attacker anything either.
            return HttpResponseRedirect(self.get_success_url())
        # Queued for the background sender, so a slow mail server does not show in the answer.
        admin_reset_request(address=address, request=self.request)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    """Tell the user to check their mail, whatever the address was."""

    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a new password through a valid, unused, unexpired link."""

    form_class = AdminSetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")
    post_reset_login = False
    token_generator = admin_reset_token

    def form_valid(self, form: AdminSetPasswordForm) -> HttpResponse:
        try:
            # The service checks the token again under a row lock: one link, one new password.
            services.admin_reset_password(
                admin=self.user,
                token=self.request.session.get(auth_views.INTERNAL_RESET_SESSION_TOKEN, ""),
                password=form.cleaned_data["password"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
            return self.form_invalid(form)
        throttle.record(
            realm=REALM,
            kind=AuthEvent.Kind.RESET_DONE,
            username=self.user.pk,
            client_address=request_client_address(self.request),
        )
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    """Confirm the new password and point to the login page."""

    template_name = "accounts/password_reset_complete.html"


# --------------------------------------------------------------------------------------------
# Own password


@method_decorator(sensitive_post_parameters(), "dispatch")
class PasswordChangeView(AdminRequiredMixin, CurrentPasswordFormView):
    """Let an admin change their own password; other sessions end, this one stays."""

    request: AuthedRequest

    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    # Guessing the current password in a left-open session counts like guessing at login.
    current_password_field = "old_password"  # noqa: S105 (a field name)
    password_realm = flows.ADMIN

    def password_account(self) -> Admin:
        return self.request.user

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        admin = self.request.user
        try:
            services.admin_set_password(
                actor=admin, admin=admin, password=form.cleaned_data["password"]
            )
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, PermissionDenied):
                form.add_error(None, _error_text(exc))
            else:
                apply_validation_error(form, exc)
            return self.form_invalid(form)
        update_session_auth_hash(self.request, admin)
        messages.success(self.request, _("Your password has been changed."))
        return HttpResponseRedirect(reverse("accounts:password-change"))


# --------------------------------------------------------------------------------------------
# Admin management (super admins only)


class AdminObjectMixin(SuperAdminRequiredMixin, ScopedObjectMixin):
    """The admin of the URL, for a super admin (404 when missing, and for anybody else)."""

    model = Admin
    lookup_field = "username"


class AdminListView(SuperAdminRequiredMixin, ListPaginationMixin, ListView):
    """List admins with search, sorting and pagination in SQL."""

    request: AuthedRequest

    model = Admin
    table_class = AdminTable
    template_name = "accounts/admin_list.html"

    def get_queryset(self) -> QuerySet[Admin]:
        self.filter_form = AdminFilterForm(self.request.GET or None)
        filters = self.filter_form.cleaned_data if self.filter_form.is_valid() else {}
        return admin_list(self.request.user, filters)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        return context


class AdminCreateView(SuperAdminRequiredMixin, FormView):
    """Create an admin."""

    request: AuthedRequest

    form_class = AdminCreateForm
    template_name = "accounts/admin_form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form: AdminCreateForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            admin = services.admin_create(
                actor=self.request.user,
                username=data["username"],
                password=data["password"],
                superadmin=data["superadmin"],
                email_other=data["email_other"],
                domains=list(data["domains"]),
                invite=data.get("invite", False),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Admin %(admin)s created.") % {"admin": admin})
        if data.get("invite"):
            messages.info(
                self.request,
                _("A link to choose the password was mailed to %(address)s.")
                % {"address": address_to_unicode(admin_reset_route(admin).address)},
            )
        _warn_about_resets(self.request, [admin])
        return HttpResponseRedirect(reverse("accounts:admin-detail", args=[admin.pk]))


class AdminDetailView(AdminObjectMixin, DetailView):
    """Show an admin, their domains and the forms that change them."""

    request: AuthedRequest

    template_name = "accounts/admin_detail.html"
    context_object_name = "admin_obj"

    def get_queryset(self) -> QuerySet[Admin]:
        return admin_list(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["domains"] = admin_domains(user, self.object)
        context["assign_form"] = AssignDomainForm(user=user, admin=self.object)
        context["reset_route"] = admin_reset_route(self.object)
        return context


class AdminEditView(AdminObjectMixin, FormView):
    """Change an admin's alternative e-mail address."""

    request: AuthedRequest

    form_class = AdminEditForm
    template_name = "accounts/admin_edit.html"

    def get_initial(self) -> dict[str, Any]:
        admin = self.get_object()
        return {
            "email_other": admin.email_other,
            "domains": list(admin_domains(self.request.user, admin)),
        }

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "user": self.request.user,
            "superadmin": stored_superadmin(self.get_object()),
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(admin_obj=self.get_object(), **kwargs)

    def form_valid(self, form: AdminEditForm) -> HttpResponse:
        admin = self.get_object()
        try:
            domains = form.cleaned_data.get("domains")
            services.admin_update(
                actor=self.request.user,
                admin=admin,
                email_other=form.cleaned_data["email_other"],
                phone=admin.phone,
                domains=None if domains is None else list(domains),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Admin %(admin)s saved.") % {"admin": admin})
        _warn_about_resets(self.request, [admin])
        return HttpResponseRedirect(reverse("accounts:admin-detail", args=[admin.pk]))


class AdminToggleView(SuperAdminRequiredMixin, ToggleActiveView):
    """Activate or deactivate an admin with one click."""

    request: AuthedRequest

    model = Admin
    lookup_field = "username"

    def perform(self, obj: Admin, active: bool) -> None:
        services.admin_set_active(actor=self.request.user, admin=obj, active=active)

    def fallback_url(self, obj: Admin) -> str:
        return reverse("accounts:admin-list")


class AdminSuperadminView(AdminObjectMixin, View):
    """Promote an admin to super admin or demote them to domain admin."""

    request: AuthedRequest

    http_method_names = ["post"]

    def post(self, request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        admin = self.get_object()
        promote = request.POST.get("superadmin", "") in ("1", "true", "on")
        try:
            changed = services.admin_set_superadmin(
                actor=request.user, admin=admin, superadmin=promote
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
        else:
            text = (
                _("%(admin)s is now a super admin.")
                if promote
                else _("%(admin)s is now a domain admin.")
            )
            messages.success(request, text % {"admin": admin})
            _warn_about_resets(request, [changed])
        return HttpResponseRedirect(
            safe_next(request, reverse("accounts:admin-detail", args=[admin.pk]))
        )


@method_decorator(sensitive_post_parameters(), "dispatch")
class AdminPasswordView(AdminObjectMixin, FormView):
    """Set another admin's password."""

    request: AuthedRequest

    form_class = AdminPasswordForm
    template_name = "accounts/admin_password.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "admin": self.get_object()}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(admin_obj=self.get_object(), **kwargs)

    def form_valid(self, form: AdminPasswordForm) -> HttpResponse:
        admin = self.get_object()
        try:
            services.admin_set_password(
                actor=self.request.user, admin=admin, password=form.cleaned_data["password"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
            return self.form_invalid(form)
        if admin.pk == self.request.user.pk:
            update_session_auth_hash(self.request, admin)
        messages.success(
            self.request, _("The password of %(admin)s has been changed.") % {"admin": admin}
        )
        return HttpResponseRedirect(reverse("accounts:admin-detail", args=[admin.pk]))


class AdminDeleteView(AdminObjectMixin, View):
    """Confirm, then purge an admin and their domain assignments."""

    request: AuthedRequest

    template_name = "accounts/admin_confirm_delete.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        admin = self.get_object()
        return render(
            request,
            self.template_name,
            {"admin_obj": admin, "domains": admin_domains(request.user, admin)},
        )

    def post(self, request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        admin = self.get_object()
        try:
            services.admin_purge(actor=request.user, admin=admin)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
            return HttpResponseRedirect(reverse("accounts:admin-detail", args=[admin.pk]))
        messages.success(request, _("Admin %(admin)s deleted.") % {"admin": admin})
        return HttpResponseRedirect(reverse("accounts:admin-list"))


class AdminAssignDomainView(AdminObjectMixin, View):
    """Give an admin one more domain (from the admin's page)."""

    request: AuthedRequest

    http_method_names = ["post"]

    def post(self, request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        admin = self.get_object()
        form = AssignDomainForm(request.POST, user=request.user, admin=admin)
        if form.is_valid():
            domain = form.cleaned_data["domain"]
            _perform(request, services.admin_assign_domain, admin, domain, assign=True)
        else:
            messages.error(request, _("Choose one of the listed domains."))
        return HttpResponseRedirect(
            safe_next(request, reverse("accounts:admin-detail", args=[admin.pk]))
        )


class AdminUnassignDomainView(AdminObjectMixin, View):
    """Take a domain away from an admin (from the admin's or the domain's page)."""

    request: AuthedRequest

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        admin = self.get_object()
        domain = get_scoped_or_404(request.user, Domain, domain=kwargs["domain"])
        _perform(request, services.admin_unassign_domain, admin, domain, assign=False)
        return HttpResponseRedirect(
            safe_next(request, reverse("accounts:admin-detail", args=[admin.pk]))
        )


def _perform(
    request: HttpRequest, service: Any, admin: Admin, domain: Domain, *, assign: bool
) -> None:
    try:
        service(actor=request.user, admin=admin, domain=domain)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
        return
    text = (
        _("%(admin)s now manages %(domain)s.")
        if assign
        else _("%(admin)s no longer manages %(domain)s.")
    )
    messages.success(request, text % {"admin": admin, "domain": domain.domain})
    if assign:
        # A new domain admin can redirect mail in the domain: resets that went there may stop.
        _warn_about_resets(request, list(admins_with_reset_in(domain.domain)), off=False)


class DomainAdminsView(SuperAdminRequiredMixin, ScopedObjectMixin, View):
    """List a domain's admins, with unassign buttons and a form to assign another one."""

    request: AuthedRequest

    model = Domain
    lookup_field = "domain"
    template_name = "accounts/domain_admins.html"

    def render_page(self, domain: Domain, form: Form, status: int = 200) -> HttpResponse:
        context = {
            "domain": domain,
            "admins": domain_admins(self.request.user, domain),
            "assign_form": form,
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        domain = self.get_object()
        return self.render_page(domain, AssignAdminForm(user=request.user, domain=domain))

    def post(self, request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        domain = self.get_object()
        form = AssignAdminForm(request.POST, user=request.user, domain=domain)
        if not form.is_valid():
            return self.render_page(domain, form, status=400)
        _perform(
            request, services.admin_assign_domain, form.cleaned_data["admin"], domain, assign=True
        )
        return HttpResponseRedirect(reverse("accounts:domain-admins", args=[domain.pk]))
