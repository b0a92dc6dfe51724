"""Forgotten passwords: where a reset link may go, and sending it (admins and mailbox owners).

A reset link is as good as the password, so it only goes to an address whose mail no admin with
fewer rights than the account can redirect (by an alias, a catch-all, a mailbox's forwarding or
its password):

- An admin's reset address is the alternative address (`email_other`), else the login address.
- Super admins get no mailed links unless VIMBADMIN_SUPERADMIN_MAIL_RESET is on, and then only
  at an address outside every domain hosted here (`domain` and `alias_domain` rows); the shell
  (`manage.py setpassword`) is their way back in.
- A domain admin's link does not go to an address in a domain that another domain admin manages.
- A mailbox owner's link goes to the mailbox's alternative address only, and not when a domain
  admin who does not manage the mailbox's domain manages the address's domain (the mailbox's
  own domain admins can set its password anyway, so they gain nothing).

"Manages" means an active `domain_admins` row of an admin who is not a super admin; an address in
an alias domain is also managed by the admins of its target domain. The rules are checked when a
link is about to be sent, since assignments change after an address is saved. Domain admins are
also refused aliases, catch-alls and forwarding for another admin's reset address.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Coalesce, Lower, NullIf
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.languages import ADMIN, mail_language
from accounts.models import Admin
from accounts.scoping import is_superadmin
from core.context import report
from domains.models import ALL_DOMAINS, AliasDomain, Domain, DomainAdmin
from mail.email import compose, send_after_commit, send_in_background
from mail.links import absolute_url
from mail.names import address_to_unicode
from mailboxes.emails import owner_page_url, send_password_reset_email
from mailboxes.models import Mailbox
from mailboxes.selectors import mailbox_for_login
from mailboxes.tokens import encode_uid, mailbox_reset_token

logger = logging.getLogger("vimbadmin.reset")


class AdminResetTokenGenerator(PasswordResetTokenGenerator):
    """Sign the admin, password hash, reset address, role and time: a stale link stops working."""

    key_salt = "vimbadmin.accounts.resets.AdminResetTokenGenerator"

    def _make_hash_value(self, user: Admin, timestamp: int) -> str:  # type: ignore[override]
        # A new password makes the link single-use; a changed alternative address or role voids
        # links sent under the old one, as mailbox links do.
        return f"{user.username}{user.password}{user.email_other}{user.superadmin}{timestamp}"


admin_reset_token = AdminResetTokenGenerator()


# --------------------------------------------------------------------------------------------
# The policy


@dataclass(frozen=True)
class ResetRoute:
    """Where an account's reset link would go, and why it may not ("" when it may)."""

    address: str
    problem: str = ""
    off: bool = False

    @property
    def allowed(self) -> bool:
        return bool(self.address) and not self.problem


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


@dataclass(frozen=True)
class _Routing:
    """Who can change where mail to an address goes, read in the same queries for any address."""

    hosted: bool
    superadmins: frozenset[str]
    # Active domain admins (super admins included) of the address's domain, or of the domain an
    # alias domain points at: mail to an alias domain goes through that domain's aliases too.
    managers: frozenset[str]
    # Active domain admins of the mailbox's own domain (mailbox links only).
    own_managers: frozenset[str] = frozenset()

    def less_privileged(self, names: frozenset[str]) -> set[str]:
        return set(names - self.superadmins)


def _routing(address: str, *, own_domain: str = "") -> _Routing:
    # Every query runs whatever the answers are, so an unknown account costs the same reads as
    # a known one (see the requests below).
    domain = _domain_of(address)
    targets = list(
        AliasDomain.objects.filter(alias_domain_id=domain).values_list(
            "target_domain_id", flat=True
        )
    )
    listed = Domain.objects.filter(domain=domain).exclude(domain=ALL_DOMAINS).exists()
    superadmins = _superadmin_names()
    managers = _active_domain_admins({domain, *targets})
    own = _active_domain_admins({own_domain}) if own_domain else frozenset()
    return _Routing(
        hosted=listed or bool(targets),
        superadmins=frozenset(superadmins),
        managers=managers,
        own_managers=own,
    )


def _superadmin_names() -> set[str]:
    flagged = Admin.objects.filter(superadmin=True).values_list("username", flat=True)
    via_all = DomainAdmin.objects.filter(domain_id=ALL_DOMAINS, active=True).values_list(
        "username_id", flat=True
    )
    return {*flagged, *via_all}


def _active_domain_admins(domains: set[str]) -> frozenset[str]:
    rows = (
        DomainAdmin.objects.filter(domain_id__in=domains, active=True)
        .exclude(domain_id=ALL_DOMAINS)
        .values_list("username_id", flat=True)
    )
    return frozenset(rows)


def stored_superadmin(admin: Admin) -> bool:
    """Tell whether the admin is a super admin in either Postfix Admin representation."""
    # Unlike scoping.is_superadmin this holds for inactive admins too (listings, reports).
    return (
        admin.superadmin
        or DomainAdmin.objects.filter(
            username_id=admin.pk, domain_id=ALL_DOMAINS, active=True
        ).exists()
    )


def admin_reset_address(*, username: str, email_other: str) -> str:
    """Return where an admin's reset links go: the alternative address, else the login."""
    return (email_other or username).strip().lower()


def _admin_problem(address: str, facts: _Routing, *, username: str, superadmin: bool) -> str:
    shown = address_to_unicode(address)
    if superadmin:
        if facts.hosted:
            return _(
                "%(address)s is in a domain hosted here, whose mail other admins can redirect; "
                "a super admin's reset link only goes to an address outside every hosted domain."
            ) % {"address": shown}
        return ""
    others = sorted(facts.less_privileged(facts.managers) - {username})
    if others:
        return _(
            "%(address)s is in a domain that other domain admins manage (%(admins)s): they "
            "could redirect its mail and take over this admin."
        ) % {"address": shown, "admins": ", ".join(others)}
    return ""


def admin_address_problem(address: str, *, username: str, superadmin: bool) -> str:
    """Say why `address` may not receive the admin's reset links ("" when it may)."""
    return _admin_problem(address, _routing(address), username=username, superadmin=superadmin)


def _superadmin_off(username: str) -> str:
    return _(
        "Password reset by e-mail is off for super admins (VIMBADMIN_SUPERADMIN_MAIL_RESET); "
        "on the server, `manage.py setpassword --username %(admin)s` sets a new password."
    ) % {"admin": username}


def _admin_route(admin: Admin, facts: _Routing, address: str) -> ResetRoute:
    superadmin = admin.superadmin or admin.pk in facts.superadmins
    if superadmin and not settings.VIMBADMIN_SUPERADMIN_MAIL_RESET:
        return ResetRoute(address, _superadmin_off(admin.username), off=True)
    problem = _admin_problem(address, facts, username=admin.username, superadmin=superadmin)
    return ResetRoute(address, problem)


def admin_reset_route(admin: Admin) -> ResetRoute:
    """Return where the admin's reset link would go now, and whether it may."""
    address = admin_reset_address(username=admin.username, email_other=admin.email_other)
    return _admin_route(admin, _routing(address), address)


def admins_without_mailed_reset() -> list[tuple[Admin, ResetRoute]]:
    """Return every admin whose reset link cannot be mailed now, with the reason."""
    found = []
    for admin in Admin.objects.order_by("username"):
        route = admin_reset_route(admin)
        if not route.allowed:
            found.append((admin, route))
    return found


def admins_with_reset_in(domain: str) -> QuerySet[Admin]:
    """Return the admins whose reset address is in the domain or one of its alias domains."""
    domains = {domain, *_alias_domains_of(domain)}
    query = Q()
    for name in domains:
        query |= Q(reset_to__endswith=f"@{name}")
    return _with_reset_address().filter(query).order_by("username")


def _mailbox_route(mailbox: Mailbox, facts: _Routing, address: str) -> ResetRoute:
    if not address:
        return ResetRoute("", _("The mailbox has no alternative e-mail address."))
    # The mailbox's own domain admins can set its password anyway, so they gain nothing.
    outsiders = sorted(
        facts.less_privileged(facts.managers) - facts.less_privileged(facts.own_managers)
    )
    if outsiders:
        return ResetRoute(
            address,
            _(
                "%(address)s is in a domain managed by admins who do not manage "
                "%(domain)s (%(admins)s): they could redirect its mail and take over the "
                "mailbox, so reset links are not sent there."
            )
            % {
                "address": address_to_unicode(address),
                "domain": address_to_unicode(mailbox.domain_id),
                "admins": ", ".join(outsiders),
            },
        )
    return ResetRoute(address)


def mailbox_reset_route(mailbox: Mailbox) -> ResetRoute:
    """Return where the owner's reset link would go now, and whether it may."""
    address = (mailbox.email_other or "").strip().lower()
    if not address:
        return _mailbox_route(mailbox, _Routing(False, frozenset(), frozenset()), address)
    return _mailbox_route(mailbox, _routing(address, own_domain=mailbox.domain_id), address)


# --------------------------------------------------------------------------------------------
# Domain admins may not redirect another admin's reset address


def _alias_domains_of(domain: str) -> list[str]:
    return list(
        AliasDomain.objects.filter(target_domain_id=domain).values_list(
            "alias_domain_id", flat=True
        )
    )


def _with_reset_address() -> QuerySet[Admin]:
    return Admin.objects.annotate(
        reset_to=Lower(Coalesce(NullIf("email_other", Value("")), "username"))
    )


def check_rerouting(actor: Any, address: str, *, field: str) -> None:
    """Refuse a domain admin's alias, catch-all or forwarding that takes an admin's reset mail.

    `address` is the alias or mailbox address, or `@domain` for a catch-all. Super admins and
    the shell may.
    """
    if actor is None or is_superadmin(actor):
        return
    local, _at, domain = address.lower().rpartition("@")
    # Mail to the same local part in an alias domain of this domain ends up here as well.
    domains = [domain, *_alias_domains_of(domain)]
    admins = _with_reset_address().exclude(username=actor.pk)
    if local:
        taken = admins.filter(reset_to__in=[f"{local}@{name}" for name in domains])
        if taken.exists():
            raise _takes_reset_mail(field)
        return
    query = Q()
    for name in domains:
        query |= Q(reset_to__endswith=f"@{name}")
    first = admins.filter(query).order_by("reset_to").values_list("reset_to", flat=True).first()
    if first:
        raise ValidationError(
            {
                field: _(
                    "The catch-all would also take mail for %(address)s, where password reset "
                    "links for an admin go; only a super admin may create it."
                )
                % {"address": address_to_unicode(first)}
            }
        )


def _takes_reset_mail(field: str) -> ValidationError:
    return ValidationError(
        {
            field: _(
                "Password reset links for an admin go to this address; only a super "
                "admin may change where its mail goes."
            )
        }
    )


def rerouting_checker(actor: Any, domain: str, *, field: str) -> Callable[[str], None]:
    """Return check_rerouting() for many addresses of one domain (a batch of new mailboxes),
    with the admins' reset addresses in the domain and its alias domains read once."""
    if actor is None or is_superadmin(actor):
        return lambda address: None
    query = Q()
    for name in [domain, *_alias_domains_of(domain)]:
        query |= Q(reset_to__endswith=f"@{name}")
    admins = _with_reset_address().exclude(username=actor.pk).filter(query)
    # reset_to is _with_reset_address()'s annotation, which django-stubs cannot see.
    found = admins.values_list("reset_to", flat=True)  # type: ignore[misc]
    taken = {address.rpartition("@")[0] for address in found}

    def check(address: str) -> None:
        local, _at, own = address.lower().rpartition("@")
        if own != domain or not local:
            check_rerouting(actor, address, field=field)
        elif local in taken:
            raise _takes_reset_mail(field)

    return check


# --------------------------------------------------------------------------------------------
# Sending the links


def _admin_link_context(admin: Admin, link: str) -> dict[str, Any]:
    parts = urlsplit(link)
    return {
        # The names Django's own reset e-mail templates use, for operators' overrides.
        "email": admin.username,
        "user": admin,
        "protocol": parts.scheme,
        "domain": parts.netloc,
        "site_name": parts.netloc,
        "link": link,
        "timeout_minutes": max(1, settings.PASSWORD_RESET_TIMEOUT // 60),
    }


def admin_reset_request(*, address: str, request: HttpRequest | None = None) -> None:
    """Queue a reset link for an active admin if the policy allows; nothing tells whether.

    An unknown or inactive account, or one the policy refuses, goes through the same reads,
    token, rendering and hand-over to the background sender as a link that is sent, with a
    stand-in admin; the sender then drops it. So neither the answer nor its timing (nor the
    number of queries) says whether the account exists.
    """
    try:
        typed = address.strip().lower()
        admin = Admin.objects.filter(username__iexact=address, active=True).first()
        known = admin is not None
        if admin is None:
            admin = Admin(username=typed, email_other="", superadmin=False, active=False)
        reset_to = admin_reset_address(username=admin.username, email_other=admin.email_other)
        route = _admin_route(admin, _routing(reset_to), reset_to)
        if known and not route.allowed:
            logger.warning("password reset link for admin %s not sent: %s", admin.pk, route.problem)
        uid = urlsafe_base64_encode(force_bytes(admin.pk))
        token = admin_reset_token.make_token(admin)
        path = reverse("accounts:password-reset-confirm", kwargs={"uidb64": uid, "token": token})
        link = absolute_url(path, request)
        if link is None:
            return
        context = {**_admin_link_context(admin, link), "uid": uid, "token": token}
        with translation.override(mail_language(ADMIN, admin.username)):
            subject = render_to_string("emails/admin_password_reset_subject.txt", context)
            mail = compose(
                "admin_password_reset",
                subject=subject,
                recipients=[route.address],
                context=context,
                about=admin.username,
                language=translation.get_language() or "",
            )
        send_in_background(mail, deliver=known and route.allowed)
    except Exception:
        # Whatever went wrong, the answer must stay the one an unknown address gets.
        logger.exception("password reset link for %s not sent", address)


def _standin_mailbox(address: str) -> Mailbox:
    local, _at, domain = address.rpartition("@")
    # In memory only: templates that read mailbox.domain find it without a query.
    return Mailbox(
        username=address,
        local_part=local,
        domain=Domain(domain=domain, active=False),
        email_other="",
        active=False,
    )


def _mailbox_reset_path(mailbox: Mailbox) -> str:
    """Return the path of a fresh reset link for the mailbox (its token signs the hash)."""
    token = mailbox_reset_token.make_token(mailbox)
    return reverse(
        "selfservice:password-reset-confirm",
        kwargs={"uidb64": encode_uid(mailbox), "token": token},
    )


def mailbox_reset_request(*, address: str, request: HttpRequest | None = None) -> None:
    """Queue a reset link for an active mailbox if the policy allows; nothing tells whether.

    As for admins, every other case (unknown, inactive, no alternative address, refused by the
    policy) does the same work with a stand-in mailbox, and the background sender drops it.
    """
    try:
        typed = address.strip().lower()
        mailbox = mailbox_for_login(address)
        known = mailbox is not None and mailbox.active and mailbox.domain.active
        if mailbox is None:
            mailbox = _standin_mailbox(typed)
        reset_to = (mailbox.email_other or "").strip().lower()
        # Without an alternative address the reads are made for the typed one, never mailed.
        facts = _routing(reset_to or typed, own_domain=mailbox.domain_id)
        route = _mailbox_route(mailbox, facts, reset_to)
        if known and reset_to and not route.allowed:
            logger.warning(
                "password reset link for mailbox %s not sent: %s", mailbox.pk, route.problem
            )
        link = absolute_url(_mailbox_reset_path(mailbox), request)
        if link is None:
            return
        send_password_reset_email(
            mailbox,
            recipient=route.address or typed,
            link=link,
            deliver=known and route.allowed,
        )
    except Exception:
        logger.exception("password reset link for %s not sent", address)


# --------------------------------------------------------------------------------------------
# Invitations: a new account's first password, chosen through a reset link


def invite_password() -> str:
    """Return a random password nobody is told: the account cannot log in until it is set."""
    return secrets.token_urlsafe(32)


def _invite_problem(route: ResetRoute) -> str:
    if not route.allowed:
        return route.problem or _("The account has no address an invitation could go to.")
    if not settings.VIMBADMIN_SELF_SERVICE_PASSWORD_RESET:
        return _(
            "Invitations use the password reset pages, which are switched off "
            "(VIMBADMIN_SELF_SERVICE_PASSWORD_RESET)."
        )
    return ""


def _invite_link(path: str) -> str:
    link = absolute_url(path)
    if link is None:
        raise ValidationError(
            _(
                "Invitations need VIMBADMIN_BASE_URL, the address this site is reached at, "
                "for the link in the mail."
            )
        )
    return link


def _report_invite_failure(error: str) -> None:
    report(
        _("The account was created, but the invitation could not be sent: %(error)s")
        % {"error": error}
    )


def mailbox_invite(mailbox: Mailbox) -> str:
    """Mail, once committed, a link that sets the new mailbox's password to its alternative address.

    The link is a reset link: it works once and expires after PASSWORD_RESET_TIMEOUT; the owner
    asks for a new one on the reset page. Returns the address it goes to; raises a field error
    (`email_other`) when the reset policy would not send a link there.
    """
    route = mailbox_reset_route(mailbox)
    problem = _invite_problem(route)
    if problem:
        raise ValidationError({"email_other": problem})
    path = _mailbox_reset_path(mailbox)
    mail = compose(
        "mailbox_invite",
        subject=_("Choose the password of your new mailbox %(address)s")
        % {"address": address_to_unicode(mailbox.username)},
        recipients=[route.address],
        context={
            "address": address_to_unicode(mailbox.username),
            "mailbox": mailbox,
            "link": _invite_link(path),
            "valid_minutes": max(settings.PASSWORD_RESET_TIMEOUT // 60, 1),
            "owner_url": owner_page_url(),
            "reset_url": absolute_url(reverse("selfservice:password-reset")) or "",
        },
        about=mailbox.username,
    )
    send_after_commit(mail, on_failure=_report_invite_failure)
    return route.address


def admin_invite(admin: Admin) -> str:
    """Mail, once committed, a link that sets the new admin's password (to the reset address).

    As for mailboxes: a reset link, single use, expiring; raises a field error (`email_other`)
    when the reset policy would not send a link there (super admins: see the module docstring).
    """
    route = admin_reset_route(admin)
    problem = route.problem if not route.allowed else ""
    if problem:
        raise ValidationError({"email_other": problem})
    uid = urlsafe_base64_encode(force_bytes(admin.pk))
    token = admin_reset_token.make_token(admin)
    path = reverse("accounts:password-reset-confirm", kwargs={"uidb64": uid, "token": token})
    link = _invite_link(path)
    mail = compose(
        "admin_invite",
        subject=_("Choose your password for the mail administration"),
        recipients=[route.address],
        context={
            **_admin_link_context(admin, link),
            "address": address_to_unicode(admin.username),
            "login_url": absolute_url(reverse("accounts:login")) or "",
            "reset_url": absolute_url(reverse("accounts:password-reset")) or "",
        },
        about=admin.username,
    )
    send_after_commit(mail, on_failure=_report_invite_failure)
    return route.address
