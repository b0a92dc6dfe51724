"""The API's shapes: what a resource reads as, and what a create or change may send.

Serializers only validate types and shapes; the rules (limits, syntax, scope) are the services'
and come back as field errors from them (api.errors).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from domains.selectors import alias_count_of
from mail.names import address_to_unicode, to_unicode


class DomainSerializer(serializers.Serializer):
    domain = serializers.CharField(read_only=True, help_text=_("Stored (punycode) name."))
    domain_unicode = serializers.SerializerMethodField()
    description = serializers.CharField(read_only=True)
    aliases = serializers.IntegerField(read_only=True, help_text=_("0 unlimited, -1 disabled."))
    mailboxes = serializers.IntegerField(read_only=True, help_text=_("0 unlimited, -1 disabled."))
    maxquota = serializers.IntegerField(read_only=True, help_text=_("MB per mailbox."))
    quota = serializers.IntegerField(read_only=True, help_text=_("MB for the whole domain."))
    default_mailbox_quota = serializers.IntegerField(read_only=True, help_text=_("MB."))
    transport = serializers.CharField(read_only=True, allow_null=True)
    backupmx = serializers.BooleanField(read_only=True)
    active = serializers.BooleanField(read_only=True)
    created = serializers.DateTimeField(read_only=True)
    modified = serializers.DateTimeField(read_only=True)
    mailbox_count = serializers.IntegerField(read_only=True)
    alias_count = serializers.SerializerMethodField()
    quota_allocated_bytes = serializers.IntegerField(read_only=True, source="quota_allocated")
    usage_bytes = serializers.IntegerField(read_only=True)

    def get_domain_unicode(self, obj: Any) -> str:
        return to_unicode(obj.domain)

    def get_alias_count(self, obj: Any) -> int:
        return alias_count_of(obj)


class DomainCreateSerializer(serializers.Serializer):
    domain = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    aliases = serializers.IntegerField(required=False)
    mailboxes = serializers.IntegerField(required=False)
    maxquota = serializers.IntegerField(required=False)
    quota = serializers.IntegerField(required=False)
    default_mailbox_quota = serializers.IntegerField(required=False)
    transport = serializers.CharField(required=False, allow_blank=True)
    backupmx = serializers.BooleanField(required=False, default=False)
    active = serializers.BooleanField(required=False, default=True)
    create_default_aliases = serializers.BooleanField(required=False, default=True)


class DomainUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True)
    aliases = serializers.IntegerField(required=False)
    mailboxes = serializers.IntegerField(required=False)
    maxquota = serializers.IntegerField(required=False)
    quota = serializers.IntegerField(required=False)
    default_mailbox_quota = serializers.IntegerField(required=False)
    transport = serializers.CharField(required=False, allow_blank=True)
    backupmx = serializers.BooleanField(required=False)
    active = serializers.BooleanField(required=False)


class MailboxSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    username_unicode = serializers.SerializerMethodField()
    domain = serializers.CharField(read_only=True, source="domain_id")
    local_part = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    quota_bytes = serializers.IntegerField(
        read_only=True, source="quota", help_text=_("0 unlimited.")
    )
    used_bytes = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("From Dovecot's quota dict; null: unknown.")
    )
    email_other = serializers.CharField(read_only=True)
    maildir = serializers.CharField(read_only=True)
    active = serializers.BooleanField(read_only=True)
    created = serializers.DateTimeField(read_only=True)
    modified = serializers.DateTimeField(read_only=True)
    password_expiry = serializers.DateTimeField(read_only=True)

    def get_username_unicode(self, obj: Any) -> str:
        return address_to_unicode(obj.username)


class InviteMixin(serializers.Serializer):
    """A password, or `invite`: a one-time link to choose one is mailed instead."""

    password = serializers.CharField(required=False, write_only=True, trim_whitespace=False)
    invite = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Instead of a password, mail a one-time link to choose one (to the alternative "
            "address; for an admin, else to the login address)."
        ),
    )

    def to_internal_value(self, data: Any) -> Any:
        # Checked beside the other fields, so one answer names every missing field.
        errors: dict[str, Any] = {}
        value: dict[str, Any] = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors = dict(exc.detail) if isinstance(exc.detail, dict) else {}
            if not errors:
                raise
        try:
            invite = self.fields["invite"].to_internal_value(data.get("invite", False))
        except serializers.ValidationError:
            invite = False
        if not invite and not data.get("password") and "password" not in errors:
            errors["password"] = [serializers.ErrorDetail(_("This field is required."), "required")]
        if errors:
            raise serializers.ValidationError(errors)
        value.setdefault("password", "")
        return value


class MailboxCreateSerializer(InviteMixin):
    domain = serializers.CharField(max_length=255)
    local_part = serializers.CharField(max_length=255)
    name = serializers.CharField(required=False, allow_blank=True, default="")
    quota_bytes = serializers.IntegerField(
        required=False, help_text=_("Absent: the domain's default mailbox quota.")
    )
    email_other = serializers.CharField(required=False, allow_blank=True, default="")
    active = serializers.BooleanField(required=False, default=True)
    send_welcome = serializers.BooleanField(required=False, default=False)


class MailboxUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    quota_bytes = serializers.IntegerField(required=False)
    email_other = serializers.CharField(required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
    password = serializers.CharField(required=False, write_only=True, trim_whitespace=False)


class AliasSerializer(serializers.Serializer):
    address = serializers.CharField(read_only=True)
    address_unicode = serializers.SerializerMethodField()
    domain = serializers.CharField(read_only=True, source="domain_id")
    targets = serializers.ListField(child=serializers.CharField(), read_only=True)
    is_mailbox = serializers.SerializerMethodField(
        help_text=_("A mailbox's own alias row (its forwarding).")
    )
    active = serializers.BooleanField(read_only=True)
    created = serializers.DateTimeField(read_only=True)
    modified = serializers.DateTimeField(read_only=True)

    def get_address_unicode(self, obj: Any) -> str:
        return address_to_unicode(obj.address)

    def get_is_mailbox(self, obj: Any) -> bool:
        return bool(getattr(obj, "is_mailbox", False))


class AliasCreateSerializer(serializers.Serializer):
    domain = serializers.CharField(max_length=255)
    local_part = serializers.CharField(
        max_length=255, allow_blank=True, help_text=_("Empty or '*': the catch-all.")
    )
    targets = serializers.ListField(child=serializers.CharField(), min_length=1)
    active = serializers.BooleanField(required=False, default=True)


class AliasUpdateSerializer(serializers.Serializer):
    targets = serializers.ListField(child=serializers.CharField(), required=False, min_length=1)
    active = serializers.BooleanField(required=False)


class AliasDomainSerializer(serializers.Serializer):
    alias_domain = serializers.CharField(read_only=True, source="alias_domain_id")
    target_domain = serializers.CharField(read_only=True, source="target_domain_id")
    active = serializers.BooleanField(read_only=True)
    created = serializers.DateTimeField(read_only=True)
    modified = serializers.DateTimeField(read_only=True)


class AliasDomainCreateSerializer(serializers.Serializer):
    alias_domain = serializers.CharField(max_length=255)
    target_domain = serializers.CharField(max_length=255)
    active = serializers.BooleanField(required=False, default=True)


class AliasDomainUpdateSerializer(serializers.Serializer):
    active = serializers.BooleanField()


class AdminSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    superadmin = serializers.BooleanField(read_only=True, source="is_super")
    active = serializers.BooleanField(read_only=True)
    email_other = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True)
    domain_count = serializers.IntegerField(read_only=True)
    created = serializers.DateTimeField(read_only=True)
    modified = serializers.DateTimeField(read_only=True)


class AdminCreateSerializer(InviteMixin):
    username = serializers.CharField(max_length=255)
    superadmin = serializers.BooleanField(required=False, default=False)
    active = serializers.BooleanField(required=False, default=True)
    email_other = serializers.CharField(required=False, allow_blank=True, default="")
    domains = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class AdminUpdateSerializer(serializers.Serializer):
    email_other = serializers.CharField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
    superadmin = serializers.BooleanField(required=False)
    password = serializers.CharField(required=False, write_only=True, trim_whitespace=False)


class AssignmentSerializer(serializers.Serializer):
    domain = serializers.CharField(max_length=255)


class LogSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    timestamp = serializers.DateTimeField(read_only=True)
    username = serializers.CharField(read_only=True, help_text=_("Who, from where, how."))
    domain = serializers.CharField(read_only=True)
    action = serializers.CharField(read_only=True, help_text=_("Postfix Admin's action key."))
    data = serializers.CharField(read_only=True)


# --- a mailbox's settings: forwarding, vacation, app passwords ------------------------------


class ForwardingSerializer(serializers.Serializer):
    destinations = serializers.ListField(child=serializers.CharField(), allow_empty=True)
    keep_copy = serializers.BooleanField()


class VacationSerializer(serializers.Serializer):
    available = serializers.BooleanField(read_only=True)
    replying = serializers.BooleanField(read_only=True)
    active = serializers.BooleanField()
    subject = serializers.CharField(allow_blank=True, trim_whitespace=False)
    body = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    active_from = serializers.DateTimeField()
    active_until = serializers.DateTimeField()
    interval_seconds = serializers.IntegerField(required=False, default=0)


class AppPasswordSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    description = serializers.CharField(allow_blank=True, trim_whitespace=False)
    created = serializers.DateTimeField(read_only=True, allow_null=True)


class AppPasswordCreatedSerializer(AppPasswordSerializer):
    password = serializers.CharField(read_only=True)
