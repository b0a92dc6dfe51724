"""App passwords: the owner's page and an admin's revocation in scope."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from accounts.owner_session import MailboxLoginRequiredMixin
from core.http import AuthedRequest
from core.views import AdminRequiredMixin, apply_validation_error, safe_next
from twofactor import selectors, services
from twofactor.forms import AppPasswordForm
from twofactor.views.common import to_int

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
            row = selectors.app_password_of_owner(self.mailbox, to_int(request.POST.get("id")))
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


class AppPasswordRevokeView(AdminRequiredMixin, View):
    """An admin revokes an app password of a mailbox in scope (POST only); else a 404."""

    http_method_names = ["post"]
    request: AuthedRequest

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        row = selectors.app_password_in_scope(self.request.user, to_int(kwargs["pk"]))
        if row is None:
            raise Http404
        services.app_password_revoke(actor=self.request.user, app_password=row)
        messages.success(request, _("The app password is revoked."))
        return redirect(safe_next(request, reverse("mailboxes:mailbox-list")))
