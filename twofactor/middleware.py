"""Take a logged-in user whom a changed second-factor policy now covers to enrolment."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from twofactor import flows


class PolicyMiddleware:
    """Check each request's logins against the policy only when its version changed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        held = flows.enforce_policy(request)
        if held is None:
            return self.get_response(request)
        messages.info(
            request, _("A second factor is now required for your account; set it up to go on.")
        )
        url = reverse("twofactor:enrol")
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(url)
