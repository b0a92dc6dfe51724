"""The vacation form behind both pages: the admin's (a mailbox in scope) and the owner's (/me/).

Save or preview, with the same form and the same service; the preview is written by the same
function the auto-responder sends with.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.generic import FormView

from core.http import AuthedRequest
from core.views import apply_service_error
from mailboxes.autoreply import build_reply
from mailboxes.forms import VacationForm, vacation_initial
from mailboxes.models import Mailbox
from mailboxes.vacation import check_vacation, vacation_available, vacation_get, vacation_set
from mailboxes.views import MailboxFormMixin, detail_url


def vacation_preview(mailbox: Mailbox, data: dict[str, Any]) -> dict[str, str]:
    """Render the reply as the auto-responder would send it, for the preview."""
    reply = build_reply(
        mailbox=mailbox.username,
        name=mailbox.name,
        subject=data["subject"],
        body=data.get("body", ""),
        to=_("the sender"),
    )
    body = reply.get_body(("plain",))
    return {
        "from": str(reply["From"]),
        "subject": str(reply["Subject"]),
        "body": body.get_content() if body is not None else "",
    }


def save_vacation(
    request: HttpRequest, form: VacationForm, *, actor: Any, mailbox: Mailbox
) -> dict[str, str] | None:
    """Preview (the Preview button) or store a valid vacation form; errors go on the form.

    Return the preview to show, or None when the vacation was stored (or the form got errors).
    """
    data = form.cleaned_data
    values = {
        "subject": data["subject"],
        "body": data.get("body", ""),
        "activefrom": data["activefrom"],
        "activeuntil": data["activeuntil"],
        "interval_time": data["interval_time"],
    }
    try:
        if "preview" in request.POST:
            values["subject"] = check_vacation(**values)
            return vacation_preview(mailbox, values)
        vacation_set(actor=actor, mailbox=mailbox, active=data["active"], **values)
    except ValidationError as exc:
        apply_service_error(form, exc, default_field="active")
    return None


class MailboxVacationView(MailboxFormMixin, FormView):
    """Set the automatic reply of a mailbox in the admin's scope."""

    request: AuthedRequest

    form_class = VacationForm
    template_name = "mailboxes/mailbox_vacation.html"

    def get_initial(self) -> dict[str, Any]:
        return vacation_initial(vacation_get(self.object).row, settings.TIME_ZONE)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            mailbox=self.object, vacation=vacation_get(self.object), available=vacation_available()
        )
        return context

    def form_valid(self, form: VacationForm) -> HttpResponse:
        preview = save_vacation(self.request, form, actor=self.request.user, mailbox=self.object)
        if preview is not None or form.errors:
            return self.render_to_response(self.get_context_data(form=form, preview=preview))
        messages.success(self.request, _("Automatic reply saved."))
        return HttpResponseRedirect(detail_url(self.object))
