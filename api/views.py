"""The admin's own API tokens: list, create (the key shown once), revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from api.forms import ApiTokenForm
from api.selectors import TOKEN_PAGE_ROWS, api_token_list
from api.services import api_token_create, api_token_revoke
from core.http import AuthedRequest
from core.views import AdminRequiredMixin, apply_service_error


class TokenListView(AdminRequiredMixin, View):
    """List the admin's tokens and create one; a new key is shown on this answer only."""

    request: AuthedRequest
    template_name = "api/token_list.html"

    def render(self, form: ApiTokenForm, **extra: Any) -> HttpResponse:
        context = {
            "form": form,
            "tokens": api_token_list(self.request.user)[:TOKEN_PAGE_ROWS],
            "docs_url": reverse("api:docs"),
            "api_url": self.request.build_absolute_uri("/api/v1/"),
            **extra,
        }
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render(ApiTokenForm())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                token, key = api_token_create(
                    actor=self.request.user,
                    admin=self.request.user,
                    name=form.cleaned_data["name"],
                    expires=form.expires(),
                    read_only=form.cleaned_data["read_only"],
                    domains=form.domain_names(),
                )
            except ValidationError as exc:
                apply_service_error(form, exc)
            else:
                return self.render(ApiTokenForm(), new_token=token, new_key=key)
        return self.render(form)


class TokenRevokeView(AdminRequiredMixin, View):
    """Revoke one of the admin's tokens (another admin's token is a 404)."""

    request: AuthedRequest

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = get_object_or_404(api_token_list(self.request.user), pk=pk)
        api_token_revoke(actor=self.request.user, token=token)
        messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
        return HttpResponseRedirect(reverse("api:tokens"))
