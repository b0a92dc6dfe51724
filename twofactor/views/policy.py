"""The second-factor policy page of super admins."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView

from core.http import AuthedRequest
from core.views import SuperAdminRequiredMixin
from mail.names import domain_sort_key, to_unicode
from twofactor import selectors, services
from twofactor.forms import PolicyForm
from twofactor.views.common import Realm

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
            # As people read them: Unicode names in the lists' order (typed back, either works).
            "domains": "\n".join(
                to_unicode(name) for name in sorted(selectors.policy_domains(), key=domain_sort_key)
            ),
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
        messages.success(
            self.request,
            _(
                "Saved. Users it covers who have no second factor are taken to set one up on "
                "their next page."
            ),
        )
        return redirect(reverse("twofactor:policy"))
