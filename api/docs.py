"""The OpenAPI document and its interactive docs, for logged-in admins (docs: session only)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.scoping import is_admin
from api.authentication import ApiTokenAuthentication


class IsAdmin(BasePermission):
    """Let active admins through, by session or by token."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_admin(request.user)


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 document: for a logged-in admin's browser or a token."""

    authentication_classes = [SessionAuthentication, ApiTokenAuthentication]
    permission_classes = [IsAdmin]
    throttle_classes: list[Any] = []


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from the project's own static files (drf-spectacular-sidecar); no CDN."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAdmin]
    throttle_classes: list[Any] = []
    template_name = "api/swagger_ui.html"
    url_name = "api:schema"
    title = "ViMbAdmin API"


docs_view = login_required(DocsView.as_view())
