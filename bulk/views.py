"""The bulk action pages: each is its list view with another answer.

GET shows the rows of the list (same scope, search and domain filter, read by key) with a box
per row and one for "all N matching"; POST shows the confirmation page listing what will
happen; POST with step=apply (and, for purges, the typed confirmation) applies the action in one
transaction and goes back to the list. Posted keys are looked up in the list's own queryset, so
a key outside the admin's scope is a 404, exactly like a missing one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aliases.views import AliasListView
from bulk.services import ACTIVATE, BULK_LIMIT, DEACTIVATE, DELETE, QUOTA, bulk_apply
from core.forms import StyledForm
from core.http import AuthedRequest
from core.views import SuperAdminRequiredMixin
from domains.views import DomainListView
from mail.quota import quota_text
from mailboxes.forms import QuotaField
from mailboxes.views import MailboxListView

# Rows shown on the selection and confirmation pages (the rest are counted).
SHOWN = 500

ACTION_LABELS = {
    ACTIVATE: gettext_lazy("Activate"),
    DEACTIVATE: gettext_lazy("Deactivate"),
    DELETE: gettext_lazy("Delete"),
    QUOTA: gettext_lazy("Change quota"),
}


class BulkForm(StyledForm):
    """The chosen action and objects: keys, or every object matching the list's filter."""

    action = forms.ChoiceField(label=gettext_lazy("Action"))
    all = forms.BooleanField(required=False)
    quota = QuotaField(required=False)
    confirm = forms.CharField(required=False, max_length=64, label=gettext_lazy("Confirmation"))

    def __init__(self, *args: Any, actions: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)
        action.choices = [(a, ACTION_LABELS[a]) for a in actions]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("action") == QUOTA and data.get("quota") is None:
            self.add_error("quota", _("Give the new quota."))
        return data


class BulkMixin:
    """Turn a list view into its bulk action page (select, confirm, apply)."""

    kind: str
    key: str
    actions: tuple[str, ...]
    purges: bool
    list_url_name: str
    kind_label: Any
    request: AuthedRequest
    # Whether only super admins have the bulk actions of this list (and its boxes).
    super_admins_only = False

    if TYPE_CHECKING:  # the list view's, after this class in the order

        def get_queryset(self) -> QuerySet: ...

    def rows(self) -> QuerySet:
        return self.get_queryset().order_by(self.key)

    def list_url(self) -> str:
        query = self.request.GET.urlencode()
        return reverse(self.list_url_name) + (f"?{query}" if query else "")

    def base_context(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "kind_label": self.kind_label,
            "list_url": self.list_url(),
            "query": self.request.GET.urlencode(),
            "limit": BULK_LIMIT,
        }

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        rows = self.rows()
        total = rows.count()
        context = self.base_context() | {
            "form": BulkForm(actions=self.actions),
            "objects": list(rows[:SHOWN]),
            "total": total,
            "more": max(total - SHOWN, 0),
        }
        return render(request, "bulk/bulk_select.html", context)

    def posted_keys(self) -> list[str]:
        """Return the keys of the ticked rows; with the list's "all on this page" box ticked,
        the keys of every row of that page (sent along by each row, so no script is needed)."""
        post = self.request.POST
        return post.getlist("page_key" if post.get("all_on_page") else "key")

    def from_list(self) -> bool:
        """Tell whether the post came from the list's own action bar (bulk/_bulk_bar.html)."""
        return self.request.POST.get("origin") == "list"

    def chosen(self, form: BulkForm) -> QuerySet:
        """Return the chosen objects from the list's queryset; a key outside it is a 404."""
        rows = self.rows()
        if form.cleaned_data["all"]:
            return rows
        keys = set(self.posted_keys())
        if not keys:
            return rows.none()
        if len(keys) > BULK_LIMIT:
            return rows  # refused below by its count
        chosen = rows.filter(**{f"{self.key}__in": keys})
        if chosen.count() != len(keys):
            raise Http404
        return chosen

    def effect(self, obj: Any, action: str, quota_bytes: int | None) -> str:
        if action == ACTIVATE:
            return _("active") if obj.active else _("inactive → active")
        if action == DEACTIVATE:
            return _("inactive") if not obj.active else _("active → inactive")
        if action == QUOTA:
            return f"{quota_text(obj.quota)} → {quota_text(quota_bytes or 0)}"
        return self.delete_effect()

    def delete_effect(self) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = BulkForm(request.POST, actions=self.actions)
        context = self.base_context() | {"form": form}
        if not form.is_valid():
            rows = self.rows()
            context |= {
                "objects": list(rows[:SHOWN]),
                "total": rows.count(),
                "checked": set(self.posted_keys()),
            }
            return render(request, "bulk/bulk_select.html", context)
        chosen = self.chosen(form)
        total = chosen.count()
        action = form.cleaned_data["action"]
        quota_bytes = form.cleaned_data.get("quota")
        if total == 0 or total > BULK_LIMIT:
            text = (
                _("Choose at least one row.")
                if total == 0
                else ngettext(
                    "At most %(limit)s object at once; narrow the filter.",
                    "At most %(limit)s objects at once; narrow the filter.",
                    BULK_LIMIT,
                )
                % {"limit": BULK_LIMIT}
            )
            messages.error(request, text)
            back = self.list_url() if self.from_list() else request.get_full_path()
            return HttpResponseRedirect(back)
        purge = action == DELETE and self.purges
        phrase = f"purge {total}"
        context |= {
            "action": action,
            "action_label": ACTION_LABELS[action],
            "total": total,
            "keys": [] if form.cleaned_data["all"] else sorted(set(self.posted_keys())),
            "all": form.cleaned_data["all"],
            "quota": request.POST.get("quota", ""),
            "purge": purge,
            "phrase": phrase,
            "delete_effect": self.delete_effect() if action == DELETE else "",
            "more": max(total - SHOWN, 0),
        }
        if request.POST.get("step") == "apply":
            if purge and form.cleaned_data["confirm"].strip().lower() != phrase:
                context["confirm_error"] = _('Type "%(phrase)s" to confirm.') % {"phrase": phrase}
            else:
                result = bulk_apply(
                    actor=self.request.user,
                    kind=self.kind,
                    objects=list(chosen),
                    action=action,
                    quota_bytes=quota_bytes,
                )
                if not result.errors:
                    messages.success(
                        request,
                        _("%(action)s: %(count)s done.")
                        % {"action": ACTION_LABELS[action], "count": result.done},
                    )
                    return HttpResponseRedirect(self.list_url())
                context["errors"] = result.errors
        shown = list(chosen[:SHOWN])
        context["rows"] = [(obj, self.effect(obj, action, quota_bytes)) for obj in shown]
        return render(request, "bulk/bulk_confirm.html", context)


class MailboxBulkView(BulkMixin, MailboxListView):
    """Bulk actions on the mailbox list."""

    request: AuthedRequest

    kind, key, purges = "mailboxes", "username", True
    actions = (ACTIVATE, DEACTIVATE, QUOTA, DELETE)
    list_url_name = "mailboxes:mailbox-list"
    kind_label = gettext_lazy("Mailboxes")

    def delete_effect(self) -> str:
        return _("purged with its own alias, vacation and quota rows (mail files stay on disk)")


class AliasBulkView(BulkMixin, AliasListView):
    """Bulk actions on the alias list."""

    request: AuthedRequest

    kind, key, purges = "aliases", "address", False
    actions = (ACTIVATE, DEACTIVATE, DELETE)
    list_url_name = "aliases:alias-list"
    kind_label = gettext_lazy("Aliases")

    def delete_effect(self) -> str:
        return _("deleted")


class DomainBulkView(SuperAdminRequiredMixin, BulkMixin, DomainListView):
    """Bulk actions on the domain list (super admins: domains are theirs to switch and purge)."""

    request: AuthedRequest
    super_admins_only = True

    kind, key, purges = "domains", "domain", True
    actions = (ACTIVATE, DEACTIVATE, DELETE)
    list_url_name = "domains:domain-list"
    kind_label = gettext_lazy("Domains")

    def delete_effect(self) -> str:
        return _("purged with all its mailboxes, aliases and alias domains (log rows are kept)")


# Each list's bulk page, by the kind its URL names (bulk/templatetags/bulk.py).
VIEWS: dict[str, type[BulkMixin]] = {
    "mailboxes": MailboxBulkView,
    "aliases": AliasBulkView,
    "domains": DomainBulkView,
}
