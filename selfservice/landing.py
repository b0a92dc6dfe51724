"""The site's front door at `/`: admins to their domains, owners to their mailbox, and a
choice of the two logins for everyone else."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.generic import TemplateView

from accounts.owner_session import owner_mailbox
from accounts.scoping import is_admin


class LandingView(TemplateView):
    """Send a logged-in user to their start page; offer both logins to anyone else."""

    template_name = "selfservice/landing.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_admin(request.user):
            return HttpResponseRedirect(reverse("domains:domain-list"))
        if owner_mailbox(request) is not None:
            return HttpResponseRedirect(reverse("selfservice:overview"))
        return super().get(request, *args, **kwargs)
