"""View building blocks shared by every app: role checks, scoping, services behind forms."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from accounts.scoping import is_admin, is_superadmin, scoped
from core.http import AuthedRequest


class AdminRequiredMixin(AccessMixin):
    """Let in logged-in, active admins; send everyone else to the admin login.

    dispatch() lets nobody else in, so `self.request.user` is an admin, fit to be an `actor`.
    A view that also inherits a Django view says so again (`request: AuthedRequest`): the type
    checker wants one declaration where two base classes declare `request`.
    """

    request: AuthedRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_admin(request.user):
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)


class SuperAdminRequiredMixin(AdminRequiredMixin):
    """Let in super admins only; a domain admin gets a 404, as if the page did not exist."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_admin(request.user) and not is_superadmin(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class ScopedMixin(AdminRequiredMixin):
    """Read `model` only through the scoping helper, so get_object() and tables inherit it."""

    model: type[Model]

    def get_queryset(self) -> QuerySet:
        return scoped(self.request.user, self.model)


def apply_validation_error(form: Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Return the posted or queried `next` URL when it points at this site, else the fallback."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


class ToggleActiveView(ScopedMixin, View):
    """POST-only one-click activation: looks the object up in scope and calls a service."""

    request: AuthedRequest

    http_method_names = ["post"]
    lookup_field = "pk"
    success_url_name = ""

    def perform(self, obj: Any, active: bool) -> None:
        raise NotImplementedError

    def fallback_url(self, obj: Any) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_queryset().filter(**{self.lookup_field: kwargs[self.lookup_field]}).first()
        if obj is None:
            raise Http404
        active = request.POST.get("active", "") in ("1", "true", "on")
        try:
            self.perform(obj, active)
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(getattr(exc, "messages", [str(exc)]))
            messages.error(request, text)
        else:
            from django.utils.translation import gettext as _

            state = _("activated") if active else _("deactivated")
            messages.success(request, _("%(object)s %(state)s.") % {"object": obj, "state": state})
        return HttpResponseRedirect(safe_next(request, self.fallback_url(obj)))


def error_page(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    """Render a plain error page that never shows a traceback."""
    return render(request, "error.html", {"title": title, "text": text}, status=status)
