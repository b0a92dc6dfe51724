"""Forms for domains and alias domains: they validate input and never write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.conf import settings
from django.core import validators
from django.core.exceptions import ValidationError
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from accounts.scoping import is_superadmin, scoped
from core.forms import scoped_domain_name_field
from domains.models import Domain
from domains.services import MAX_COUNT, default_aliases
from mail.names import normalize_domain, to_unicode, validate_one_line
from mail.quota import format_mb, max_quota_mb, multiplier

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_LIMIT_HELP = _("-1 = disabled, 0 = unlimited.")


class DomainFilterForm(forms.Form):
    """Search the domain list by name (in any script) or description."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=255,
        widget=forms.TextInput(
            attrs={
                "class": "form-control",
                "type": "search",
                "placeholder": _("Domain or description"),
            }
        ),
    )


def _limit_field(label: StrOrPromise, *, max_value: int | None = MAX_COUNT) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=-1,
        max_value=max_value,
        help_text=_LIMIT_HELP,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
        error_messages={"min_value": _("Use -1 (disabled), 0 (unlimited) or a positive number.")},
    )


def _transport_label(value: str) -> str:
    """Name a Postfix transport the way a person reads it; the stored value stays in brackets."""
    kind = value.partition(":")[0]
    if value == "virtual":
        meaning = _("Postfix's default for virtual mailboxes (virtual_transport)")
    elif kind == "lmtp" and "dovecot" in value:
        meaning = _("straight to Dovecot over LMTP")
    elif kind == "lmtp":
        meaning = _("to an LMTP server")
    elif kind in ("smtp", "relay"):
        meaning = _("passed on by SMTP to another server")
    else:
        return value
    return f"{meaning} ({value})"


def _transport_choices() -> list[tuple[str, str]]:
    return [(item, _transport_label(item)) for item in settings.VIMBADMIN_TRANSPORT_OPTIONS]


TRANSPORT_HELP = _(
    "How Postfix delivers mail for this domain (the domain's row in transport_maps). "
    "“virtual” leaves it to Postfix's virtual_transport, which the generated configuration "
    "points at Dovecot; “lmtp:…” hands it to Dovecot's LMTP socket directly. Keep the "
    "default unless this domain's mail is delivered elsewhere."
)
BACKUPMX_HELP = _(
    "This server is only a backup MX for the domain: it accepts mail while the domain's own "
    "server is down and passes it on (relay_domains). Mailboxes here receive no mail."
)


def language_choices() -> list[tuple[str, str]]:
    """Return the shipped languages by their own names, after the site's default."""
    site = get_language_info(settings.LANGUAGE_CODE)["name_local"]
    return [
        ("", _("The site's default (%(language)s)") % {"language": site}),
        *((code, get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES),
    ]


class DomainEditForm(forms.Form):
    """The domain's description, limits (MB for quotas), transport and flags."""

    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=255,
        validators=[validate_one_line],
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    mailboxes = _limit_field(_("Max mailboxes"))
    aliases = _limit_field(_("Max aliases"))
    # The MB limits get their maximum, which depends on the settings, in __init__.
    maxquota = _limit_field(_("Max quota per mailbox (MB)"), max_value=None)
    quota = _limit_field(_("Domain total quota (MB)"), max_value=None)
    default_mailbox_quota = forms.IntegerField(
        label=_("Default quota for new mailboxes (MB)"),
        min_value=0,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
    transport = forms.ChoiceField(
        label=_("Transport"),
        help_text=TRANSPORT_HELP,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    backupmx = forms.BooleanField(
        label=_("Backup MX"),
        required=False,
        help_text=BACKUPMX_HELP,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    language = forms.ChoiceField(
        label=_("Language of mails"),
        required=False,
        help_text=_(
            "Mails to the domain's mailboxes are written in this language unless their owner "
            "chose another."
        ),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    password_expiry = forms.IntegerField(
        label=_("Passwords expire after (days)"),
        min_value=0,
        max_value=MAX_COUNT,
        initial=0,
        help_text=_(
            "0: never. Otherwise Dovecot refuses a mailbox password this many days after it "
            "was set, and its owner is warned by mail beforehand."
        ),
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )

    def __init__(self, *args: Any, current_transport: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["language"]).choices = language_choices()
        if not settings.VIMBADMIN_PASSWORD_EXPIRY_ENFORCED:
            # Offered only where Dovecot enforces it (mailconfig dovecot --password-expiry).
            del self.fields["password_expiry"]
        choices = _transport_choices()
        # An adopted domain may use a transport the operator has not listed; keep it selectable
        # so that saving the form does not silently change where mail goes.
        if current_transport and current_transport not in dict(choices):
            choices.append((current_transport, current_transport))
        cast(forms.ChoiceField, self.fields["transport"]).choices = choices
        # MB stored as bytes in mailbox.quota and summed per domain: bounded by that BIGINT.
        unit = _("In MB of %(bytes)s bytes (Postfix Admin's quota multiplier).") % {
            "bytes": f"{multiplier():,}"
        }
        helps = {
            "maxquota": _LIMIT_HELP,
            "quota": _LIMIT_HELP,
            "default_mailbox_quota": _(
                "Pre-filled in the new mailbox form. 0 = unlimited, only in a domain without "
                "a max quota per mailbox or a total quota."
            ),
        }
        for name, help_text in helps.items():
            field = cast(forms.IntegerField, self.fields[name])
            field.max_value = max_quota_mb()
            field.validators.append(validators.MaxValueValidator(field.max_value))
            field.widget.attrs["max"] = field.max_value
            field.help_text = f"{help_text} {unit}"

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        maxquota, quota = data.get("maxquota"), data.get("quota")
        default = data.get("default_mailbox_quota")
        if default is None or maxquota is None or quota is None:
            return data
        if default == 0 and (maxquota > 0 or quota > 0):
            self.add_error(
                "default_mailbox_quota",
                _(
                    "Unlimited (0) is not allowed: the domain has a max quota per mailbox or a "
                    "total quota. Enter a size in MB."
                ),
            )
        elif maxquota > 0 and default > maxquota:
            self.add_error(
                "default_mailbox_quota",
                _("The default quota cannot exceed the max quota per mailbox (%(max)s).")
                % {"max": format_mb(maxquota)},
            )
        elif quota > 0 and default > quota:
            self.add_error(
                "default_mailbox_quota",
                _("The default quota cannot exceed the domain's total quota (%(max)s).")
                % {"max": format_mb(quota)},
            )
        return data


class DomainCreateForm(DomainEditForm):
    """A new domain: its name (typed in Unicode or punycode) plus every editable field."""

    domain = forms.CharField(
        label=_("Domain"),
        max_length=255,
        help_text=_("Internationalised names may be typed as they are read, e.g. bücher.example."),
        widget=forms.TextInput(attrs={"class": "form-control", "autofocus": True}),
    )
    create_default_aliases = forms.BooleanField(
        label=_("Create the RFC 2142 aliases (postmaster, abuse, hostmaster, webmaster)"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    field_order = ["domain", "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        s = settings
        defaults = {
            "mailboxes": s.VIMBADMIN_DOMAIN_DEFAULT_MAILBOXES,
            "aliases": s.VIMBADMIN_DOMAIN_DEFAULT_ALIASES,
            "maxquota": s.VIMBADMIN_DOMAIN_DEFAULT_MAXQUOTA,
            "quota": s.VIMBADMIN_DOMAIN_DEFAULT_QUOTA,
            "default_mailbox_quota": s.VIMBADMIN_DOMAIN_DEFAULT_MAILBOX_QUOTA,
            "transport": s.VIMBADMIN_DOMAIN_DEFAULT_TRANSPORT,
            "active": True,
            "create_default_aliases": True,
        }
        for name, value in defaults.items():
            self.fields[name].initial = value
        pairs = default_aliases(str(_("<domain>")))
        self.fields["create_default_aliases"].help_text = (
            ", ".join(f"{local} → {target}" for local, target in pairs)
            if pairs
            else _("No default aliases are configured.")
        )
        transport = cast(forms.ChoiceField, self.fields["transport"])
        # Built by _transport_choices(): a list of pairs.
        listed = cast(list[tuple[str, str]], transport.choices)
        if s.VIMBADMIN_DOMAIN_DEFAULT_TRANSPORT not in dict(listed):
            transport.choices = [
                (s.VIMBADMIN_DOMAIN_DEFAULT_TRANSPORT, s.VIMBADMIN_DOMAIN_DEFAULT_TRANSPORT),
                *listed,
            ]

    def clean_domain(self) -> str:
        return normalize_domain(self.cleaned_data["domain"])


class DomainPurgeForm(forms.Form):
    """Ask the admin to type the domain's name before everything in it is deleted."""

    confirm = forms.CharField(
        label=_("Type the domain name to confirm"),
        max_length=255,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, domain: Domain, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.domain = domain
        self.fields["confirm"].help_text = _("Type “%(name)s”. This cannot be undone.") % {
            "name": to_unicode(domain.domain)
        }

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        try:
            matches = normalize_domain(typed) == self.domain.domain
        except ValidationError:
            matches = False
        if not matches:
            raise ValidationError(
                _("Type “%(name)s” exactly to confirm."),
                code="mismatch",
                params={"name": to_unicode(self.domain.domain)},
            )
        return typed


class AliasDomainForm(forms.Form):
    """An alias domain and its target, both among the domains the user manages."""

    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        fields = {
            "alias_domain": (_("Alias domain"), _("Mail to any address at this domain …")),
            "target_domain": (
                _("Target domain"),
                _("… is delivered to the same local part at this domain."),
            ),
        }
        # Super admins may name a domain that does not exist yet: it is created for the purpose.
        self.may_create = is_superadmin(user)
        for name, (label, help_text) in fields.items():
            field = scoped_domain_name_field(
                user, label=label, required=name == "target_domain" or not self.may_create
            )
            field.help_text = help_text
            self.fields[name] = field
        if self.may_create:
            self.fields["alias_domain"].help_text = _(
                "Mail to any address at this domain … (or leave it empty and name a new one below)"
            )
            self.fields["new_domain"] = forms.CharField(
                label=_("Or a new alias domain"),
                required=False,
                max_length=255,
                help_text=_(
                    "Created as an alias-only domain: no mailboxes (-1), no limits of its own "
                    "and no RFC 2142 aliases, so that postmaster@ and the rest go to the target "
                    "domain's."
                ),
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )
        self.order_fields(["alias_domain", "new_domain", "target_domain", "active"])

    def clean_new_domain(self) -> str:
        text = self.cleaned_data.get("new_domain", "").strip()
        if not text:
            return ""
        name = normalize_domain(text)
        if scoped(self.user, Domain).filter(domain=name).exists():
            raise ValidationError(
                _("This domain exists already: choose it as the alias domain above.")
            )
        return name

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        source, target = data.get("alias_domain"), data.get("target_domain")
        new = data.get("new_domain", "")
        if (
            self.may_create
            and "new_domain" not in self.errors
            and "alias_domain" not in self.errors
        ):
            if source and new:
                raise ValidationError(_("Choose an alias domain or name a new one, not both."))
            if not source and not new:
                self.add_error("alias_domain", _("Choose an alias domain or name a new one."))
                return data
        if target:
            names = [name for name in (source, target) if name]
            found = {d.domain: d for d in scoped(self.user, Domain).filter(domain__in=names)}
            if any(name not in found for name in names):
                raise ValidationError(_("Select domains you manage."))
            data["target_domain"] = found[target]
            data["alias_domain"] = found[source] if source else None
        return data


class AliasDomainFilterForm(forms.Form):
    """Search the alias domain list by either domain."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=255,
        widget=forms.TextInput(
            attrs={"class": "form-control", "type": "search", "placeholder": _("Domain")}
        ),
    )
