"""/api/v1/: domains, mailboxes, aliases and alias domains through the pages' services and
selectors, narrowed by the request's token (api.access); out of reach is a 404 as in the pages.

Reads start from the same selectors as the lists (same search); writes call the same services,
so limits, locks, log rows and mails are the pages' own. One request is one transaction: a
change of several things is made whole or not at all.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.scoping import scoped
from aliases.models import Alias
from aliases.selectors import alias_list
from aliases.services import alias_create, alias_delete, alias_set_active, alias_update
from api import serializers as s
from api.access import narrowed, token_domains, token_get_or_404
from api.errors import errors_on
from api.pagination import KeysetPagination
from domains import counters
from domains.models import AliasDomain, Domain, DomainSettings
from domains.selectors import alias_domain_list, domain_list, with_live_figures
from domains.services import (
    alias_domain_create,
    alias_domain_delete,
    alias_domain_set_active,
    domain_create,
    domain_purge,
    domain_settings,
    domain_update,
)
from mail.names import normalize_domain
from mailboxes.models import Mailbox
from mailboxes.selectors import mailbox_list, mailbox_used_bytes
from mailboxes.services import (
    default_quota_bytes,
    mailbox_create,
    mailbox_purge,
    mailbox_set_active,
    mailbox_set_password,
    mailbox_update,
)

# The services name the quota `quota`; the API, in bytes, `quota_bytes`.
QUOTA_FIELD = {"quota": "quota_bytes"}
Q_PARAM = OpenApiParameter("q", str, description="Search text, as in the list pages.")
DOMAIN_PARAM = OpenApiParameter("domain", str, description="Only this domain's rows.")


def domain_key(value: str) -> str:
    """Return a domain name from a URL or a body in its stored form ('' when it is none)."""
    try:
        return normalize_domain(value)
    except ValidationError:
        return ""


def _address_key(value: str) -> str:
    """Return an address from a URL in its stored form: lower case, domain in punycode."""
    local, sep, domain = value.strip().rpartition("@")
    if not sep:
        return value.strip().lower()
    return f"{local.lower()}@{domain_key(domain) or domain.lower()}"


def filters_of(request: Request, *names: str) -> dict[str, Any]:
    return {name: request.query_params.get(name, "") for name in names}


class ApiViewSet(viewsets.GenericViewSet):
    """A resource of /api/v1/: keyset pages (the request's log rows name its token: the token's
    label lives in core.context for the request, see api.authentication)."""

    pagination_class = KeysetPagination
    lookup_value_regex = "[^/]+"
    page_key = "pk"
    page_descending = False

    def paged(self, queryset: QuerySet, serializer: type[Any]) -> Response:
        rows = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer(rows, many=True).data)

    def domain_in_reach(self, name: str, field: str) -> Domain:
        """Return a domain a body names, if the token reaches it; else that field's error."""
        key = domain_key(name)
        found = (
            narrowed(self.request.auth, domain_list(self.request.user, {})).filter(pk=key).first()
            if key
            else None
        )
        if found is None:
            raise exceptions.ValidationError(
                {field: [exceptions.ErrorDetail(_("There is no such domain."), "does_not_exist")]}
            )
        return found


@extend_schema_view(
    list=extend_schema(parameters=[Q_PARAM], responses=s.DomainSerializer),
    retrieve=extend_schema(responses=s.DomainSerializer),
    create=extend_schema(request=s.DomainCreateSerializer, responses={201: s.DomainSerializer}),
    partial_update=extend_schema(request=s.DomainUpdateSerializer, responses=s.DomainSerializer),
    destroy=extend_schema(responses={204: None}),
)
class DomainViewSet(ApiViewSet):
    """Domains: every admin reads theirs; super admins create, change and delete."""

    serializer_class = s.DomainSerializer
    lookup_field = "domain"
    # By the Unicode name (domain_list's sort_name, one per domain): the cursor holds its key.
    page_key = "sort_name"

    def _rows(self, *, keyed: bool = False) -> QuerySet[Domain]:
        filters = filters_of(self.request, "q")
        return narrowed(self.request.auth, domain_list(self.request.user, filters, keyed=keyed))

    def _one(self, domain: str) -> Domain:
        key = domain_key(domain)
        found = with_live_figures(narrowed(self.request.auth, domain_list(self.request.user, {})))
        obj = found.filter(pk=key).first() if key else None
        if obj is None:
            raise Http404
        obj.default_mailbox_quota = domain_settings(obj).default_mailbox_quota  # type: ignore[attr-defined]
        return obj

    def list(self, request: Request) -> Response:
        # Domains other tools added get their counters row and sort key first, as in the list
        # page, so the pages of one walk see them in one place.
        keyed = counters.ensure_missing(narrowed(request.auth, scoped(request.user, Domain)))
        rows = self.paginate_queryset(self._rows(keyed=keyed))
        # Read apart, by the page's names: on MariaDB the project's table may not share the
        # collation of Postfix Admin's domain column, and such columns refuse to be joined.
        kept = dict(
            DomainSettings.objects.filter(domain_id__in=[row.pk for row in rows]).values_list(
                "domain_id", "default_mailbox_quota"
            )
        )
        for row in rows:
            # A domain without the row (adopted) gets its default from domain_settings().
            found = kept[row.pk] if row.pk in kept else domain_settings(row).default_mailbox_quota
            row.default_mailbox_quota = found
        return self.get_paginated_response(s.DomainSerializer(rows, many=True).data)

    def retrieve(self, request: Request, domain: str) -> Response:
        return Response(s.DomainSerializer(self._one(domain)).data)

    def create(self, request: Request) -> Response:
        if token_domains(request.auth) is not None:
            raise exceptions.PermissionDenied(_("A token limited to domains cannot add domains."))
        data = valid(s.DomainCreateSerializer, request)
        obj = domain_create(actor=request.user, **data)
        return Response(s.DomainSerializer(self._one(obj.domain)).data, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, domain: str) -> Response:
        obj = self._one(domain)
        data = valid(s.DomainUpdateSerializer, request)
        current = {
            "description": obj.description,
            "aliases": obj.aliases,
            "mailboxes": obj.mailboxes,
            "maxquota": obj.maxquota,
            "quota": obj.quota,
            "default_mailbox_quota": obj.default_mailbox_quota,  # type: ignore[attr-defined]
            "transport": obj.transport or "",
            "backupmx": obj.backupmx,
            "active": obj.active,
        }
        domain_update(actor=request.user, domain=obj, **{**current, **data})
        return Response(s.DomainSerializer(self._one(obj.domain)).data)

    def destroy(self, request: Request, domain: str) -> Response:
        domain_purge(actor=request.user, domain=self._one(domain))
        return Response(status=status.HTTP_204_NO_CONTENT)


def valid(serializer: type[Any], request: Request) -> dict[str, Any]:
    """Return the body's fields as the serializer validated them (a field error otherwise)."""
    checked = serializer(data=request.data)
    checked.is_valid(raise_exception=True)
    return dict(checked.validated_data)


@extend_schema_view(
    list=extend_schema(parameters=[Q_PARAM, DOMAIN_PARAM], responses=s.MailboxSerializer),
    retrieve=extend_schema(responses=s.MailboxSerializer),
    create=extend_schema(request=s.MailboxCreateSerializer, responses={201: s.MailboxSerializer}),
    partial_update=extend_schema(request=s.MailboxUpdateSerializer, responses=s.MailboxSerializer),
    destroy=extend_schema(responses={204: None}),
)
class MailboxViewSet(ApiViewSet):
    """Mailboxes: address, name, quota, active state and password."""

    serializer_class = s.MailboxSerializer
    lookup_field = "username"
    page_key = "username"

    def _one(self, username: str) -> Mailbox:
        obj = token_get_or_404(self.request, Mailbox, username=_address_key(username))
        obj.used_bytes = mailbox_used_bytes(obj)  # type: ignore[attr-defined]
        return obj

    def list(self, request: Request) -> Response:
        rows = narrowed(
            request.auth, mailbox_list(request.user, filters_of(request, "q", "domain"))
        )
        return self.paged(rows, s.MailboxSerializer)

    def retrieve(self, request: Request, username: str) -> Response:
        return Response(s.MailboxSerializer(self._one(username)).data)

    @transaction.atomic
    def create(self, request: Request) -> Response:
        data = valid(s.MailboxCreateSerializer, request)
        domain = self.domain_in_reach(data.pop("domain"), "domain")
        if data.get("quota_bytes") is None:
            data["quota_bytes"] = default_quota_bytes(domain)
        with errors_on("local_part", QUOTA_FIELD):
            obj = mailbox_create(actor=request.user, domain=domain, **data)
        return Response(s.MailboxSerializer(self._one(obj.username)).data, status.HTTP_201_CREATED)

    @transaction.atomic
    def partial_update(self, request: Request, username: str) -> Response:
        obj = self._one(username)
        data = valid(s.MailboxUpdateSerializer, request)
        if {"name", "quota_bytes", "email_other"} & data.keys():
            with errors_on("quota_bytes", QUOTA_FIELD):
                mailbox_update(
                    actor=request.user,
                    mailbox=obj,
                    name=data.get("name", obj.name),
                    quota_bytes=data.get("quota_bytes", obj.quota),
                    email_other=data.get("email_other", obj.email_other),
                )
        if "active" in data and data["active"] != obj.active:
            mailbox_set_active(actor=request.user, mailbox=obj, active=data["active"])
        if "password" in data:
            with errors_on("password"):
                mailbox_set_password(actor=request.user, mailbox=obj, password=data["password"])
        return Response(s.MailboxSerializer(self._one(obj.username)).data)

    def destroy(self, request: Request, username: str) -> Response:
        mailbox_purge(actor=request.user, mailbox=self._one(username))
        return Response(status=status.HTTP_204_NO_CONTENT)


SHOW_MAILBOX_ALIASES = OpenApiParameter(
    "show_mailbox_aliases", bool, description="Also list the mailboxes' own alias rows."
)


@extend_schema_view(
    list=extend_schema(
        parameters=[Q_PARAM, DOMAIN_PARAM, SHOW_MAILBOX_ALIASES], responses=s.AliasSerializer
    ),
    retrieve=extend_schema(responses=s.AliasSerializer),
    create=extend_schema(request=s.AliasCreateSerializer, responses={201: s.AliasSerializer}),
    partial_update=extend_schema(request=s.AliasUpdateSerializer, responses=s.AliasSerializer),
    destroy=extend_schema(responses={204: None}),
)
class AliasViewSet(ApiViewSet):
    """Aliases (the `@domain` catch-all included); a mailbox's own row is read here, changed as
    the mailbox."""

    serializer_class = s.AliasSerializer
    lookup_field = "address"
    page_key = "address"

    def _one(self, address: str) -> Alias:
        obj = token_get_or_404(self.request, Alias, address=_address_key(address))
        obj.is_mailbox = Mailbox.objects.filter(username=obj.address).exists()  # type: ignore[attr-defined]
        return obj

    def list(self, request: Request) -> Response:
        filters = filters_of(request, "q", "domain")
        filters["show_mailbox_aliases"] = request.query_params.get("show_mailbox_aliases") in (
            "1",
            "true",
            "True",
        )
        rows = narrowed(request.auth, alias_list(request.user, filters))
        return self.paged(rows, s.AliasSerializer)

    def retrieve(self, request: Request, address: str) -> Response:
        return Response(s.AliasSerializer(self._one(address)).data)

    @transaction.atomic
    def create(self, request: Request) -> Response:
        data = valid(s.AliasCreateSerializer, request)
        domain = self.domain_in_reach(data.pop("domain"), "domain")
        with errors_on("local_part"):
            obj = alias_create(actor=request.user, domain=domain, **data)
        return Response(s.AliasSerializer(self._one(obj.address)).data, status.HTTP_201_CREATED)

    @transaction.atomic
    def partial_update(self, request: Request, address: str) -> Response:
        obj = self._one(address)
        data = valid(s.AliasUpdateSerializer, request)
        if "targets" in data:
            with errors_on("targets"):
                alias_update(actor=request.user, alias=obj, targets=data["targets"])
        if "active" in data and data["active"] != obj.active:
            alias_set_active(actor=request.user, alias=obj, active=data["active"])
        return Response(s.AliasSerializer(self._one(obj.address)).data)

    def destroy(self, request: Request, address: str) -> Response:
        alias_delete(actor=request.user, alias=self._one(address))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(parameters=[Q_PARAM], responses=s.AliasDomainSerializer),
    retrieve=extend_schema(responses=s.AliasDomainSerializer),
    create=extend_schema(
        request=s.AliasDomainCreateSerializer, responses={201: s.AliasDomainSerializer}
    ),
    partial_update=extend_schema(
        request=s.AliasDomainUpdateSerializer, responses=s.AliasDomainSerializer
    ),
    destroy=extend_schema(responses={204: None}),
)
class AliasDomainViewSet(ApiViewSet):
    """Alias domains: mail to one domain delivered as to the same local part at another."""

    serializer_class = s.AliasDomainSerializer
    lookup_field = "alias_domain"
    # By the alias domain's Unicode name (alias_domain_list's sort_name, one per row).
    page_key = "sort_name"

    def _one(self, alias_domain: str) -> AliasDomain:
        return token_get_or_404(self.request, AliasDomain, pk=domain_key(alias_domain))

    def list(self, request: Request) -> Response:
        rows = narrowed(request.auth, alias_domain_list(request.user, filters_of(request, "q")))
        return self.paged(rows, s.AliasDomainSerializer)

    def retrieve(self, request: Request, alias_domain: str) -> Response:
        return Response(s.AliasDomainSerializer(self._one(alias_domain)).data)

    def create(self, request: Request) -> Response:
        data = valid(s.AliasDomainCreateSerializer, request)
        source = self.domain_in_reach(data["alias_domain"], "alias_domain")
        target = self.domain_in_reach(data["target_domain"], "target_domain")
        obj = alias_domain_create(
            actor=request.user, alias_domain=source, target_domain=target, active=data["active"]
        )
        return Response(s.AliasDomainSerializer(obj).data, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, alias_domain: str) -> Response:
        obj = self._one(alias_domain)
        data = valid(s.AliasDomainUpdateSerializer, request)
        if data["active"] != obj.active:
            alias_domain_set_active(actor=request.user, alias_domain=obj, active=data["active"])
        return Response(s.AliasDomainSerializer(self._one(alias_domain)).data)

    def destroy(self, request: Request, alias_domain: str) -> Response:
        alias_domain_delete(actor=request.user, alias_domain=self._one(alias_domain))
        return Response(status=status.HTTP_204_NO_CONTENT)
