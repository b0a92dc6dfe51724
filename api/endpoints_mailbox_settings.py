"""/api/v1/mailboxes/<address>/forwarding/, vacation/ and app-passwords/: a mailbox's settings
through the admin pages' own services (mailboxes.services, mailboxes.vacation,
twofactor.services), so limits, log rows and the owner's notice mail are the pages' own.

The mailbox is reached as in MailboxViewSet (the token's scope; out of reach is a 404), and a
read-only token is refused for every write by TokenPermission.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api import serializers as s
from api.access import token_get_or_404
from api.endpoints import ApiViewSet, _address_key, valid
from api.errors import errors_on
from mail.passwords import app_password_hash
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_forwarding, mailbox_set_forwarding
from mailboxes.vacation import vacation_available, vacation_get, vacation_set
from pfa.models import MailboxAppPassword
from twofactor import selectors as twofactor_selectors
from twofactor import services as twofactor_services

# The services' field names, as the API names them.
FORWARDING_FIELDS = {"targets": "destinations"}
VACATION_FIELDS = {
    "activefrom": "active_from",
    "activeuntil": "active_until",
    "interval_time": "interval_seconds",
}


class MailboxSettingsViewSet(ApiViewSet):
    """A mailbox's forwarding, automatic reply and app passwords (no list or detail routes of
    its own: the router adds only these actions under /mailboxes/<address>/)."""

    lookup_field = "username"

    def _mailbox(self, username: str) -> Mailbox:
        return token_get_or_404(self.request, Mailbox, username=_address_key(username))

    # --- forwarding -------------------------------------------------------------------------

    def _forwarding(self, mailbox: Mailbox) -> dict[str, Any]:
        destinations, keep_copy = mailbox_forwarding(mailbox)
        return {"destinations": destinations, "keep_copy": keep_copy}

    @extend_schema(request=None, responses=s.ForwardingSerializer)
    @action(detail=True, methods=["get"], url_path="forwarding")
    def forwarding(self, request: Request, username: str) -> Response:
        """Where the mailbox's mail goes besides (or instead of) the mailbox."""
        return Response(self._forwarding(self._mailbox(username)))

    @forwarding.mapping.put
    @extend_schema(request=s.ForwardingSerializer, responses=s.ForwardingSerializer)
    @transaction.atomic
    def forwarding_set(self, request: Request, username: str) -> Response:
        """Forward the mailbox's mail, keeping a copy or not (the page's rules and notice)."""
        mailbox = self._mailbox(username)
        data = valid(s.ForwardingSerializer, request)
        with errors_on("destinations", FORWARDING_FIELDS):
            mailbox_set_forwarding(
                actor=request.user,
                mailbox=mailbox,
                targets=data["destinations"],
                keep_copy=data["keep_copy"],
            )
        return Response(self._forwarding(mailbox))

    # --- vacation ---------------------------------------------------------------------------

    def _vacation(self, mailbox: Mailbox) -> dict[str, Any]:
        state = vacation_get(mailbox)
        row = state.row
        return s.VacationSerializer(
            {
                "available": vacation_available(),
                "replying": state.is_on,
                "active": bool(row and row.active),
                "subject": row.subject if row else "",
                "body": row.body if row else "",
                "active_from": row.activefrom if row else None,
                "active_until": row.activeuntil if row else None,
                "interval_seconds": row.interval_time if row else 0,
            }
        ).data

    @extend_schema(request=None, responses=s.VacationSerializer)
    @action(detail=True, methods=["get"], url_path="vacation")
    def vacation(self, request: Request, username: str) -> Response:
        """The mailbox's automatic reply (`replying`: switched on and routed to the responder)."""
        return Response(self._vacation(self._mailbox(username)))

    @vacation.mapping.put
    @extend_schema(request=s.VacationSerializer, responses=s.VacationSerializer)
    @transaction.atomic
    def vacation_set(self, request: Request, username: str) -> Response:
        """Store the automatic reply and switch it on or off (the page's rules and notice)."""
        mailbox = self._mailbox(username)
        data = valid(s.VacationSerializer, request)
        with errors_on("active", VACATION_FIELDS):
            vacation_set(
                actor=request.user,
                mailbox=mailbox,
                active=data["active"],
                subject=data["subject"],
                body=data["body"],
                activefrom=data["active_from"],
                activeuntil=data["active_until"],
                interval_time=data["interval_seconds"],
            )
        return Response(self._vacation(mailbox))

    # --- app passwords ----------------------------------------------------------------------

    def _app_password_mailbox(self, username: str) -> Mailbox:
        mailbox = self._mailbox(username)
        if not twofactor_selectors.app_passwords_available():
            raise exceptions.NotFound(
                _(
                    "This database has no place for app passwords: it needs "
                    "Postfix Admin 4's schema."
                )
            )
        return mailbox

    @extend_schema(request=None, responses=s.AppPasswordSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="app-passwords", pagination_class=None)
    def app_passwords(self, request: Request, username: str) -> Response:
        """The mailbox's app passwords (never the passwords themselves)."""
        mailbox = self._app_password_mailbox(username)
        rows = twofactor_selectors.app_passwords_of(mailbox)
        return Response(s.AppPasswordSerializer(rows, many=True).data)

    @app_passwords.mapping.post
    @extend_schema(request=s.AppPasswordSerializer, responses={201: s.AppPasswordCreatedSerializer})
    @transaction.atomic
    def app_password_create(self, request: Request, username: str) -> Response:
        """Add a generated app password; the answer holds it, and no later one does."""
        mailbox = self._app_password_mailbox(username)
        data = valid(s.AppPasswordSerializer, request)
        with errors_on("description"):
            raw = twofactor_services.app_password_create(
                actor=request.user, mailbox=mailbox, description=data["description"]
            )
        # The stored hash is the password's own (unsalted, as Dovecot recomputes it).
        row = MailboxAppPassword.objects.get(
            username=mailbox.username, password_hash=app_password_hash(raw)
        )
        found = next(r for r in twofactor_selectors.app_passwords_of(mailbox) if r.pk == row.pk)
        found.password = raw  # type: ignore[attr-defined]
        return Response(s.AppPasswordCreatedSerializer(found).data, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"app-passwords/(?P<pk>[0-9]+)",
        url_name="app-password-revoke",
    )
    def app_password_revoke(self, request: Request, username: str, pk: str) -> Response:
        """Revoke an app password; mail clients using it are refused from their next login."""
        mailbox = self._app_password_mailbox(username)
        row = twofactor_selectors.app_password_of_owner(mailbox, int(pk))
        if row is None:
            raise Http404
        twofactor_services.app_password_revoke(actor=request.user, app_password=row)
        return Response(status=status.HTTP_204_NO_CONTENT)
