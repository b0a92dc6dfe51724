"""/api/v1/: admins and their domain assignments (super admins), and the log (read).

A token limited to domains sees no admin (admins belong to no domain); the log shows the rows
of the domains the token reaches, as the log page does for its admin.
"""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Admin
from accounts.selectors import admin_domains, admin_list
from accounts.services import (
    admin_assign_domain,
    admin_create,
    admin_purge,
    admin_set_active,
    admin_set_password,
    admin_set_superadmin,
    admin_unassign_domain,
    admin_update,
)
from api import serializers as s
from api.access import narrowed
from api.endpoints import Q_PARAM, ApiViewSet, domain_key, filters_of, valid
from api.errors import errors_on
from auditlog.selectors import log_list
from domains.models import Domain


@extend_schema_view(
    list=extend_schema(parameters=[Q_PARAM], responses=s.AdminSerializer),
    retrieve=extend_schema(responses=s.AdminSerializer),
    create=extend_schema(request=s.AdminCreateSerializer, responses={201: s.AdminSerializer}),
    partial_update=extend_schema(request=s.AdminUpdateSerializer, responses=s.AdminSerializer),
    destroy=extend_schema(responses={204: None}),
)
class AdminViewSet(ApiViewSet):
    """Admins: super admins list, create, change and delete them; others see none."""

    serializer_class = s.AdminSerializer
    lookup_field = "username"
    page_key = "username"

    def _rows(self, q: str = "") -> object:
        return narrowed(self.request.auth, admin_list(self.request.user, {"q": q}))

    def _one(self, username: str) -> Admin:
        obj = self._rows().filter(pk=username.strip().lower()).first()  # type: ignore[attr-defined]
        if obj is None:
            raise Http404
        return obj

    def list(self, request: Request) -> Response:
        return self.paged(self._rows(request.query_params.get("q", "")), s.AdminSerializer)  # type: ignore[arg-type]

    def retrieve(self, request: Request, username: str) -> Response:
        return Response(s.AdminSerializer(self._one(username)).data)

    @transaction.atomic
    def create(self, request: Request) -> Response:
        data = valid(s.AdminCreateSerializer, request)
        names = [domain_key(name) for name in data.pop("domains")]
        domains = list(narrowed(request.auth, Domain.objects.filter(pk__in=names)))
        if len(domains) != len(set(names)):
            raise exceptions.ValidationError(
                {
                    "domains": [
                        exceptions.ErrorDetail(_("There is no such domain."), "does_not_exist")
                    ]
                }
            )
        obj = admin_create(actor=request.user, domains=domains, **data)
        return Response(s.AdminSerializer(self._one(obj.pk)).data, status.HTTP_201_CREATED)

    @transaction.atomic
    def partial_update(self, request: Request, username: str) -> Response:
        obj = self._one(username)
        data = valid(s.AdminUpdateSerializer, request)
        if {"email_other", "phone"} & data.keys():
            admin_update(
                actor=request.user,
                admin=obj,
                email_other=data.get("email_other", obj.email_other),
                phone=data.get("phone", obj.phone),
            )
        if "active" in data and data["active"] != obj.active:
            admin_set_active(actor=request.user, admin=obj, active=data["active"])
        if "superadmin" in data:
            admin_set_superadmin(actor=request.user, admin=obj, superadmin=data["superadmin"])
        if "password" in data:
            with errors_on("password"):
                admin_set_password(actor=request.user, admin=obj, password=data["password"])
        return Response(s.AdminSerializer(self._one(obj.pk)).data)

    def destroy(self, request: Request, username: str) -> Response:
        admin_purge(actor=request.user, admin=self._one(username))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.AssignmentSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="domains", pagination_class=None)
    def domains(self, request: Request, username: str) -> Response:
        """List the domains the admin manages."""
        rows = narrowed(request.auth, admin_domains(request.user, self._one(username)))
        return Response([{"domain": domain.domain} for domain in rows])

    @domains.mapping.post
    @extend_schema(request=s.AssignmentSerializer, responses={201: s.AssignmentSerializer})
    def assign(self, request: Request, username: str) -> Response:
        """Let the admin manage a domain."""
        admin = self._one(username)
        data = valid(s.AssignmentSerializer, request)
        domain = self.domain_in_reach(data["domain"], "domain")
        admin_assign_domain(actor=request.user, admin=admin, domain=domain)
        return Response({"domain": domain.domain}, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"domains/(?P<domain>[^/]+)",
        url_name="domain-unassign",
    )
    def unassign(self, request: Request, username: str, domain: str) -> Response:
        """Take a domain away from the admin."""
        admin = self._one(username)
        reached = narrowed(request.auth, admin_domains(request.user, admin))
        obj = reached.filter(pk=domain_key(domain)).first()
        if obj is None:
            raise Http404
        admin_unassign_domain(actor=request.user, admin=admin, domain=obj)
        return Response(status=status.HTTP_204_NO_CONTENT)


ACTION_PARAM = OpenApiParameter("action", str, description="Postfix Admin's action key.")
ADMIN_PARAM = OpenApiParameter("admin", str, description="Text in the acting admin's column.")
LOG_DOMAIN_PARAM = OpenApiParameter("domain", str, description="Only this domain's rows.")


@extend_schema_view(
    list=extend_schema(
        parameters=[LOG_DOMAIN_PARAM, ACTION_PARAM, ADMIN_PARAM], responses=s.LogSerializer
    ),
)
class LogViewSet(ApiViewSet):
    """The log, newest first: the rows of the domains the token reaches (read only)."""

    serializer_class = s.LogSerializer
    page_key = "id"
    page_descending = True

    def list(self, request: Request) -> Response:
        filters = filters_of(request, "domain", "action", "admin")
        filters["domain"] = domain_key(filters["domain"]) if filters["domain"] else ""
        rows = narrowed(request.auth, log_list(request.user, filters))
        return self.paged(rows, s.LogSerializer)
