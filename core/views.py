"""View building blocks shared by every app: role checks, scoping, lists, services behind forms.

The object a URL names is found one way everywhere: ScopedObjectMixin.get_object(), over a
get_queryset() that starts from accounts.scoping.scoped(); missing and out of reach are the
same 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.encoding import escape_uri_path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView

from accounts import flows as login_flows
from accounts.models import Admin
from accounts.scoping import is_admin, is_superadmin, scoped, scoped_domain_names
from core.http import AuthedRequest
from core.listing import search
from core.listing.pagination import DeferredPaginator, ListPaginationMixin, list_queryset
from core.sticky import sticky_domain
from domains.selectors import Room, room_for_new
from mail.names import domain_filter_value, to_unicode
from mailboxes.models import Mailbox


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


class ScopedObjectMixin(ScopedMixin):
    """The object the URL names, found among the user's objects (404 when missing or not theirs).

    `lookup_field` is the model field matched against the URL keyword argument of the same
    name. A view that needs more of the object (annotations) overrides get_queryset(), starting
    from the scoping helper. The object is looked up once per request.
    """

    lookup_field = "pk"

    def get_object(self, queryset: QuerySet | None = None) -> Any:
        found = getattr(self, "_scoped_object", None)
        if found is None:
            lookup = {self.lookup_field: self.kwargs[self.lookup_field]}
            found = get_object_or_404(
                queryset if queryset is not None else self.get_queryset(), **lookup
            )
            self._scoped_object = found
        return found


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


def apply_service_error(form: Form, exc: ValidationError, *, default_field: str = "") -> None:
    """Show a service error on the form; errors naming no field go on `default_field`."""
    if not hasattr(exc, "error_dict") and default_field in form.fields:
        for message in exc.messages:
            form.add_error(default_field, message)
    elif default_field in form.fields and NON_FIELD_ERRORS in exc.error_dict:
        # Several refusals at once: those naming no field still go on `default_field`.
        errors = dict(exc.error_dict)
        for error in errors.pop(NON_FIELD_ERRORS):
            form.add_error(default_field, error)
        if errors:
            apply_validation_error(form, ValidationError(errors))
    else:
        apply_validation_error(form, exc)


def current_password_checked(
    request: HttpRequest,
    form: Form,
    field: str,
    *,
    realm: login_flows.Realm,
    account: Admin | Mailbox,
) -> bool:
    """Validate the form and check its current password in one round; say whether both passed.

    The current password is checked whenever it was typed, whatever the other fields say, so one
    submit shows every error; and the other fields are validated whatever the current password
    is, so their errors tell nothing about it. The check is the login's (accounts.flows): once
    per request, throttled, a wrong one counted and logged, none at all while held back.
    """
    valid = form.is_valid()
    typed = form.cleaned_data.get(field)
    if not typed:
        # Missing or over the length limit: the field's own error is on the form.
        return False
    error = login_flows.check_current_password(request, realm, account=account, password=typed)
    if error:
        form.add_error(field, error)
        return False
    return valid


class CurrentPasswordFormView(FormView):
    """A form that re-asks the user's current password: every error of a submit in one answer.

    `form_valid()` runs only when the current password was right and every field is valid.
    """

    current_password_field = "current_password"  # noqa: S105 (a field name)
    password_realm: login_flows.Realm

    def password_account(self) -> Admin | Mailbox:
        """Return the logged-in account whose current password the form asks for."""
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        checked = current_password_checked(
            request,
            form,
            self.current_password_field,
            realm=self.password_realm,
            account=self.password_account(),
        )
        return self.form_valid(form) if checked else self.form_invalid(form)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Return the posted or queried `next` URL when it points at this site, else the fallback."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


class ToggleActiveView(ScopedObjectMixin, View):
    """POST-only one-click activation: looks the object up in scope and calls a service."""

    request: AuthedRequest

    http_method_names = ["post"]

    def perform(self, obj: Any, active: bool) -> None:
        raise NotImplementedError

    def fallback_url(self, obj: Any) -> str:
        raise NotImplementedError

    def after(self, obj: Any, active: bool) -> None:
        """Add what else the user should know once the change is made (below its message)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        active = request.POST.get("active", "") in ("1", "true", "on")
        try:
            self.perform(obj, active)
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(getattr(exc, "messages", [str(exc)]))
            messages.error(request, text)
        else:
            # The message offers to undo: a POST back here with the old state (templates
            # /_messages.html, core.templatetags.vimbadmin.undo_of), scoped like this one.
            undo = f"undo {0 if active else 1} {escape_uri_path(request.path)}"
            messages.success(
                request,
                (_("%(object)s activated.") if active else _("%(object)s deactivated."))
                % {"object": obj},
                extra_tags=undo,
            )
            self.after(obj, active)
        return HttpResponseRedirect(safe_next(request, self.fallback_url(obj)))


def filter_context(filter_form: Form) -> dict[str, Any]:
    """Return the filter form and whether its domain is one the user manages, for the template."""
    domain = domain_filter_value(filter_form.data.get("domain", ""))
    return {
        "filter_form": filter_form,
        "filter_domain": domain,
        "filter_domain_managed": filter_form.domain_is_managed(domain),
    }


class DomainFilteredListView(ScopedMixin, ListPaginationMixin, ListView):
    """A list with search and the sticky domain filter, paged and sorted in SQL."""

    request: AuthedRequest

    filter_form_class: type[Form]
    paginator_class = DeferredPaginator

    def filter_data(self) -> dict[str, str]:
        """Return what the filter form is bound to: the query string plus the sticky domain."""
        return {
            "q": self.request.GET.get("q", ""),
            "domain": domain_filter_value(sticky_domain(self.request)),
        }

    def select(self, filters: dict[str, Any]) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        self.filter_form = self.filter_form_class(self.filter_data(), user=self.request.user)
        return self.select(self.filter_form.filters())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(filter_context(self.filter_form))
        # Known once the paginator has counted a search: more matches than a search shows.
        source = list_queryset(getattr(context.get("table"), "data", None))
        context["search_capped"] = source is not None and source.capped
        context["search_limit"] = search.SEARCH_RESULTS_LIMIT
        return context


class CreateRoomMixin:
    """Tell a list or create page how full its domain is, before anyone fills a form.

    The domain is the list's domain filter, else the user's only domain; a domain admin's
    "New …" button is disabled at the limit, with the reason (a super admin may override).
    """

    room_kind: str  # "mailboxes" or "aliases"

    def room_user(self) -> Any:
        """Return the logged-in admin (the view this mixes into holds the request)."""
        view: Any = self
        return view.request.user

    def limit_text(self, limit: int) -> str:
        raise NotImplementedError

    def disabled_text(self) -> str:
        raise NotImplementedError

    def room_context(self, domain: str) -> dict[str, Any]:
        """Return the usage, and why creating is blocked (empty when it is not), for a domain."""
        user = self.room_user()
        domain = domain_filter_value(domain)  # typed in Unicode on a form with many domains
        if not domain:
            names = scoped_domain_names(user)
            domain = names[0] if names is not None and len(names) == 1 else ""
        room = room_for_new(user, self.room_kind, [domain]).get(domain) if domain else None
        blocked = note = ""
        if room is not None and room.full and not is_superadmin(user):
            blocked = self.disabled_text() if room.limit < 0 else self.limit_text(room.limit)
        elif room is not None and room.limit > 0:
            note = _("%(domain)s: %(used)s of %(limit)s used.") % {
                "domain": to_unicode(room.domain),
                "used": room.used,
                "limit": room.limit,
            }
        return {"room": room, "room_blocked": blocked, "room_note": note}

    def room_notes(self) -> dict[str, str] | None:
        """Return "3 / 3 used" per limited domain of a domain select (None: no select)."""
        user = self.room_user()
        names = scoped_domain_names(user)
        if names is None:
            return None
        return {
            name: _("%(used)d / %(limit)d used") % {"used": room.used, "limit": room.limit}
            for name, room in room_for_new(user, self.room_kind, names).items()
            if room.limit > 0
        }


class CreateRoomView(AdminRequiredMixin, CreateRoomMixin, View):
    """Answer how full ONE of the user's domains is, as JSON, for a create form's domain field.

    `?domain=bücher.example` (Unicode or punycode) answers what the form shows for it:
    {"domain", "used", "limit", "full", "note", "blocked"}; js/vimbadmin.js shows the note or
    the reason and disables the create button while it is blocked. A domain the user does not
    manage is a 404 that tells nothing, exactly like a missing one; so is an empty one (the
    form's "only domain" fallback is no answer to a question about a typed name).
    """

    request: AuthedRequest

    http_method_names = ["get"]

    def room_answer(self, room: Room, context: dict[str, Any]) -> dict[str, Any]:
        """Return the JSON answer for a domain the user manages (views add their own keys)."""
        return {
            "domain": to_unicode(room.domain),
            "used": room.used,
            "limit": room.limit,
            "full": room.full,
            "note": context["room_note"],
            "blocked": context["room_blocked"],
        }

    def get(self, request: AuthedRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        typed = request.GET.get("domain", "")[:255]
        context = self.room_context(typed) if typed.strip() else {"room": None}
        room = context["room"]
        if room is None:
            return JsonResponse({}, status=404)
        return JsonResponse(self.room_answer(room, context))
