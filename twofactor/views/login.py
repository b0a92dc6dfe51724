"""The second step of a login: the code page, cancelling, and enrolment the policy forces."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView

from accounts import flows as login_flows
from accounts.models import Admin
from core.views import safe_next
from mailboxes.models import Mailbox
from twofactor import flows
from twofactor.forms import CodeForm, EnrolForm
from twofactor.views.common import after_login, base_template, check_code_form, login_page
from twofactor.views.own import OwnFactorMixin

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
            return redirect(login_page(request.GET.get("realm", "")))
        self.held = held
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            base_template=base_template(self.held.realm),
            next=safe_next(self.request, ""),
            account=self.held.account,
        )
        return context

    def form_valid(self, form: CodeForm) -> HttpResponse:
        if not check_code_form(self.request, form, self.held.realm, self.held.account):
            return self.form_invalid(form)
        login_flows.finish_login(self.request, self.held.realm, self.held.account)
        return HttpResponseRedirect(after_login(self.request, self.held.realm))


class CancelView(View):
    """Abandon a held login (POST only)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        held = flows.held(request)
        flows.release(request)
        return redirect(login_page(held.realm if held else ""))


@method_decorator([sensitive_post_parameters("code"), never_cache], "dispatch")
class ForcedEnrolView(OwnFactorMixin, View):
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
            return redirect(login_page(""))
        self.held = held
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, form: EnrolForm) -> HttpResponse:
        context = {
            "base_template": base_template(self.realm),
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
        target = after_login(request, realm)
        login_flows.finish_login(request, realm, account)
        context = {
            "base_template": base_template(realm),
            "codes": codes,
            "title": _("Your second factor is set up."),
            "continue_url": target,
        }
        return render(request, "twofactor/recovery_codes.html", context)
