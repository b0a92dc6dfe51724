"""TOTP exception addresses: the admins' page (in scope) and the owner's page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from accounts.owner_session import MailboxLoginRequiredMixin
from accounts.scoping import is_superadmin
from core.http import AuthedRequest
from core.views import AdminRequiredMixin, apply_validation_error
from twofactor import selectors, services
from twofactor.forms import ExceptionForm, OwnerExceptionForm
from twofactor.views.common import to_int

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
            row = visible.get(to_int(request.POST.get("id")))
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
            row = selectors.totp_exception_of_owner(self.mailbox, to_int(request.POST.get("id")))
            if row is None:
                raise Http404
            services.totp_exception_delete(actor=owner, exception=row)
            return redirect(request.path)
        form = OwnerExceptionForm(request.POST)
        if form.is_valid() and _exception_post(request, owner, form, owner):
            return redirect(request.path)
        return self.render_page(form)
