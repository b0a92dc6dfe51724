"""The owner's own mail settings under /me/: forwarding, vacation auto-reply, alternative address.

Every page acts on the logged-in mailbox only (`MailboxLoginRequiredMixin` sets
`self.mailbox`); no URL names a mailbox, so there is nothing to reach outside it. Writes go
through the mailbox services with the owner's address as the actor.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from accounts import throttle
from accounts.models import AuthEvent
from accounts.owner_session import MailboxLoginRequiredMixin
from aliases.tables import target_label
from core.context import request_client_address
from core.views import apply_service_error
from mail.names import address_to_unicode
from mailboxes.alternative import (
    alternative_address_confirm,
    alternative_address_remove,
    alternative_address_request,
    alternative_link_target,
)
from mailboxes.forms import ForwardingForm, VacationForm, vacation_initial
from mailboxes.services import mailbox_forwarding, mailbox_set_forwarding
from mailboxes.vacation import vacation_available, vacation_get
from mailboxes.vacation_views import save_vacation
from selfservice.forms import EmailOtherForm

# The owner's time zone for dates, as last chosen on the vacation page.
TIME_ZONE_SESSION_KEY = "vimb_owner_time_zone"


class OwnerForwardingView(MailboxLoginRequiredMixin, FormView):
    """Let the owner forward their mail, keeping a copy here or not."""

    form_class = ForwardingForm
    template_name = "selfservice/forwarding.html"

    def get_initial(self) -> dict[str, Any]:
        targets, keep = mailbox_forwarding(self.mailbox)
        return {"targets": "\n".join(target_label(t) for t in targets), "keep_copy": keep}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["mailbox"] = self.mailbox
        return context

    def form_valid(self, form: ForwardingForm) -> HttpResponse:
        try:
            mailbox_set_forwarding(
                actor=self.mailbox.username,
                mailbox=self.mailbox,
                targets=form.cleaned_data["targets"],
                keep_copy=form.cleaned_data["keep_copy"],
            )
        except ValidationError as exc:
            apply_service_error(form, exc, default_field="targets")
            return self.form_invalid(form)
        messages.success(self.request, _("Your forwarding was saved."))
        return HttpResponseRedirect(reverse("selfservice:overview"))


class OwnerVacationView(MailboxLoginRequiredMixin, FormView):
    """Let the owner set an automatic reply for a time away, with a preview."""

    form_class = VacationForm
    template_name = "selfservice/vacation.html"

    def zone_name(self) -> str:
        return str(self.request.session.get(TIME_ZONE_SESSION_KEY) or settings.TIME_ZONE)

    def get_initial(self) -> dict[str, Any]:
        return vacation_initial(vacation_get(self.mailbox).row, self.zone_name())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            mailbox=self.mailbox,
            vacation=vacation_get(self.mailbox),
            vacation_zone=self.zone_name(),
            available=vacation_available(),
        )
        return context

    def form_valid(self, form: VacationForm) -> HttpResponse:
        self.request.session[TIME_ZONE_SESSION_KEY] = form.cleaned_data["time_zone"]
        preview = save_vacation(
            self.request, form, actor=self.mailbox.username, mailbox=self.mailbox
        )
        if preview is not None or form.errors:
            return self.render_to_response(self.get_context_data(form=form, preview=preview))
        if form.cleaned_data["active"]:
            messages.success(self.request, _("Your automatic reply was saved."))
        else:
            messages.success(self.request, _("Your automatic reply is off."))
        return HttpResponseRedirect(reverse("selfservice:overview"))


class OwnerEmailOtherView(MailboxLoginRequiredMixin, FormView):
    """Let the owner choose an alternative address (stored once confirmed) or remove it."""

    form_class = EmailOtherForm
    template_name = "selfservice/email_other.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["mailbox"] = self.mailbox
        return context

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        if "remove" in request.POST and self.mailbox.email_other:
            alternative_address_remove(actor=self.mailbox.username, mailbox=self.mailbox)
            messages.success(request, _("Your alternative address was removed."))
            return HttpResponseRedirect(reverse("selfservice:overview"))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: EmailOtherForm) -> HttpResponse:
        # Each link is a mail sent in the owner's name: counted like reset requests.
        if not throttle.reset_allowed(
            realm=AuthEvent.Realm.MAILBOX,
            username=self.mailbox.username,
            client_address=request_client_address(self.request),
        ):
            form.add_error(None, _("Too many requests; try again later."))
            return self.form_invalid(form)
        try:
            address = alternative_address_request(
                actor=self.mailbox.username,
                mailbox=self.mailbox,
                address=form.cleaned_data["address"],
                request=self.request,
            )
        except ValidationError as exc:
            apply_service_error(form, exc, default_field="address")
            return self.form_invalid(form)
        messages.info(
            self.request,
            _(
                "A confirmation link was sent to %(address)s. The address is used once you "
                "open that link."
            )
            % {"address": address_to_unicode(address)},
        )
        return HttpResponseRedirect(reverse("selfservice:overview"))


class OwnerEmailOtherConfirmView(TemplateView):
    """Show what a confirmation link would store (GET) and store it (POST); no login needed:
    the link itself proves the mail arrived."""

    template_name = "selfservice/email_other_confirm.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        target = alternative_link_target(self.kwargs["token"])
        context["target"] = target
        if target is not None:
            context["mailbox"], context["email_other"] = target
        return context

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            alternative_address_confirm(token=kwargs["token"])
        except ValidationError:
            return self.render_to_response(self.get_context_data(done=False))
        return self.render_to_response({"done": True})
