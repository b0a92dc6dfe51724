"""Template context for the page frame: navigation role, section, domain switcher."""

from __future__ import annotations

from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from accounts.scoping import is_admin, is_superadmin, scoped_domain_names
from core.sticky import SESSION_KEY
from mail.names import domain_filter_value, to_unicode

# The lists that narrow their rows to the selected (sticky) domain.
FILTERED_LISTS = frozenset({"mailboxes:mailbox-list", "aliases:alias-list", "auditlog:log-list"})


class DomainSwitcher:
    """Describe the domain switcher lazily, so pages that do not show it run no query."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    @cached_property
    def selected(self) -> str:
        """Return the selected domain in its stored (punycode) form, as the options carry it."""
        if "domain" in self.request.GET:
            raw = self.request.GET.get("domain", "")
        else:
            session = getattr(self.request, "session", None)
            raw = session.get(SESSION_KEY, "") if session is not None else ""
        return domain_filter_value(raw)

    @cached_property
    def selected_label(self) -> str:
        return to_unicode(self.selected)

    @cached_property
    def _names(self) -> list[str] | None:
        # The same list the page's forms and list read (once per request); None: too many.
        return scoped_domain_names(self.request.user)

    @cached_property
    def choices(self) -> list[tuple[str, str]]:
        """Return (stored, shown) pairs, or an empty list when a text field is used instead."""
        if self._names is None:
            return []
        return [(name, to_unicode(name)) for name in self._names]

    @cached_property
    def as_text(self) -> bool:
        """Tell whether the user has too many domains for a select: the domain is typed."""
        return self._names is None

    @cached_property
    def visible(self) -> bool:
        return self._names is None or bool(self._names)

    @cached_property
    def action(self) -> str:
        """Return the list the switcher filters: the current one if it can, else the mailboxes."""
        match = getattr(self.request, "resolver_match", None)
        if match is not None and match.view_name in FILTERED_LISTS:
            return self.request.path
        try:
            return reverse("mailboxes:mailbox-list")
        except NoReverseMatch:
            return self.request.path


# Creating these needs a super admin; a domain admin is not offered the link.
SUPERADMIN_CREATE = frozenset({"domains:domain-create", "accounts:admin-create"})
# Query parameters that page or sort a list without narrowing it.
NOT_FILTERS = frozenset({"page", "sort", "per_page"})


class ListState:
    """Describe the current list for its empty state: narrowed by a filter, or where to create."""

    def __init__(self, request: HttpRequest, role: str) -> None:
        self.request = request
        self.role = role

    @cached_property
    def filtered(self) -> bool:
        request = self.request
        if any(value for key, value in request.GET.items() if key not in NOT_FILTERS):
            return True
        match = getattr(request, "resolver_match", None)
        session = getattr(request, "session", None)
        sticky = session.get(SESSION_KEY, "") if session is not None else ""
        in_filtered_list = match is not None and match.view_name in FILTERED_LISTS
        return bool(sticky) and in_filtered_list and "domain" not in request.GET

    @cached_property
    def create_url(self) -> str:
        match = getattr(self.request, "resolver_match", None)
        if match is None or not match.view_name.endswith("-list"):
            return ""
        name = match.view_name.removesuffix("-list") + "-create"
        if name in SUPERADMIN_CREATE and self.role != "superadmin":
            return ""
        try:
            return reverse(name)
        except NoReverseMatch:
            return ""


# The frame's links (templates/_nav.html), by the key the navigation reads.
FRAME_URLS = {
    "me": "selfservice:overview",
    "me_logout": "selfservice:logout",
    "domains": "domains:domain-list",
    "mailboxes": "mailboxes:mailbox-list",
    "aliases": "aliases:alias-list",
    "aliasdomains": "domains:aliasdomain-list",
    "admins": "accounts:admin-list",
    "log": "auditlog:log-list",
    "api_tokens": "api:tokens",
    "password": "accounts:password-change",
    "logout": "accounts:logout",
}


@lru_cache(maxsize=32)
def _frame_urls(prefix: str, urlconf: Any) -> MappingProxyType[str, str]:
    urls = {}
    for key, name in FRAME_URLS.items():
        try:
            urls[key] = reverse(name, urlconf=urlconf)
        except NoReverseMatch:
            urls[key] = ""  # a site without that part (e.g. no self-service) shows no link
    return MappingProxyType(urls)


def frame_urls() -> MappingProxyType[str, str]:
    """Return the frame's links, reversed once per script prefix and URL configuration.

    Every page shows about ten of them, the same on every page.
    """
    return _frame_urls(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


def _section(request: HttpRequest) -> str:
    """Name the current section as "namespace:entity", e.g. "domains:aliasdomain"."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    entity = (match.url_name or "").split("-", 1)[0]
    return f"{match.namespace}:{entity}"


def layout(request: HttpRequest) -> dict[str, Any]:
    """Give the frame the viewer's role, the section, the domain switcher and list state."""
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    if is_admin(user):
        role = "superadmin" if is_superadmin(user) else "domainadmin"
    elif (
        getattr(request, "mailbox", None) is not None and match and match.namespace == "selfservice"
    ):
        role = "owner"
    else:
        role = ""
    return {
        "nav_role": role,
        "nav_section": _section(request),
        "domain_switcher": DomainSwitcher(request)
        if role in ("superadmin", "domainadmin")
        else None,
        "list_state": ListState(request, role),
        "nav_urls": frame_urls() if role else {},
    }
