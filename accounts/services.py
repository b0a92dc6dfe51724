"""Writes to admins: every change goes through these functions, in a transaction, with a log row."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.languages import ADMIN, language_preference_forget
from accounts.models import Admin
from accounts.resets import (
    admin_address_problem,
    admin_invite,
    admin_reset_token,
    invite_password,
    stored_superadmin,
)
from accounts.scoping import forget_domain_names, is_superadmin, require_superadmin, scoped
from domains.models import ALL_DOMAINS, Domain, DomainAdmin
from mail import passwords
from mail.names import normalize_address
from pfa.audit import describe_changes, log_action

SUPERADMINS_ONLY = gettext_lazy("Only super admins manage admins.")


def _ensure_all_pseudo_domain() -> None:
    # Postfix Admin needs the ALL row in `domain` (a foreign key target on PostgreSQL).
    if not Domain.objects.filter(domain=ALL_DOMAINS).exists():
        Domain.objects.create(
            domain=ALL_DOMAINS, description="", transport="", aliases=0, mailboxes=0, active=True
        )


def _store_superadmin(admin: Admin, superadmin: bool) -> None:
    admin.superadmin = superadmin
    if superadmin:
        _ensure_all_pseudo_domain()
        if not DomainAdmin.objects.filter(username_id=admin.pk, domain_id=ALL_DOMAINS).exists():
            DomainAdmin.objects.create(username_id=admin.pk, domain_id=ALL_DOMAINS, active=True)
        DomainAdmin.objects.filter(username_id=admin.pk, domain_id=ALL_DOMAINS).update(active=True)
    else:
        DomainAdmin.objects.filter(username_id=admin.pk, domain_id=ALL_DOMAINS).delete()
    admin._vimb_is_superadmin = superadmin
    forget_domain_names()


def _check_password_policy(password: str, admin: Admin | None) -> None:
    validate_password(password, user=admin)


def _active_superadmins() -> list[str]:
    flagged = Admin.objects.filter(active=True, superadmin=True).values_list("username", flat=True)
    via_all = DomainAdmin.objects.filter(domain_id=ALL_DOMAINS, active=True).values_list(
        "username_id", flat=True
    )
    names = set(flagged) | set(
        Admin.objects.filter(active=True, username__in=list(via_all)).values_list(
            "username", flat=True
        )
    )
    return sorted(names)


def _guard_last_superadmin(admin: Admin) -> None:
    # Lock every super admin row so that two requests cannot each remove "the other" one.
    list(Admin.objects.select_for_update().filter(superadmin=True).values_list("pk", flat=True))
    if is_superadmin(admin) and _active_superadmins() == [admin.pk]:
        raise ValidationError(_("The last active super admin cannot be removed or demoted."))


def _check_email_other(email_other: str, *, username: str, superadmin: bool) -> None:
    # Typed for reset links: one that others could intercept is refused, with the reason.
    if email_other:
        problem = admin_address_problem(email_other, username=username, superadmin=superadmin)
        if problem:
            raise ValidationError({"email_other": problem})


def _guard_not_self(actor: Admin | None, admin: Admin, what: str) -> None:
    if actor is not None and actor.pk == admin.pk:
        raise ValidationError(_("You cannot %(what)s yourself.") % {"what": what})


@transaction.atomic
def admin_create(
    *,
    actor: Admin | None,
    username: str,
    password: str,
    superadmin: bool = False,
    active: bool = True,
    email_other: str = "",
    domains: list[Domain] | None = None,
    check_policy: bool = True,
    invite: bool = False,
) -> Admin:
    """Create an admin with a hashed password; super admins are stored the Postfix Admin way.

    `invite`: `password` is ignored; the admin gets a password nobody knows, and a link to
    choose one goes to their reset address once committed (refused where no link may go).
    """
    require_superadmin(actor, SUPERADMINS_ONLY)
    if invite:
        password, check_policy = invite_password(), False
    username = normalize_address(username)
    if Admin.objects.filter(username=username).exists():
        raise ValidationError({"username": _("An admin with this address already exists.")})
    email_other = normalize_address(email_other) if email_other else ""
    _check_email_other(email_other, username=username, superadmin=superadmin)
    admin = Admin(username=username, active=active, email_other=email_other)
    if check_policy:
        try:
            _check_password_policy(password, admin)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
    admin.set_password(password)
    now = timezone.now()
    admin.created = admin.modified = now
    admin.save(force_insert=True)
    _store_superadmin(admin, superadmin)
    admin.save(update_fields=["superadmin"])
    for domain in domains or []:
        DomainAdmin.objects.create(username_id=admin.pk, domain_id=domain.pk, active=True)
    log_action(actor=actor, domain="", action="create_admin", data=admin.username)
    if invite:
        admin_invite(admin)
    return admin


@transaction.atomic
def admin_update(
    *,
    actor: Admin | None,
    admin: Admin,
    email_other: str,
    phone: str = "",
    domains: list[Domain] | None = None,
) -> Admin:
    """Change an admin's contact details and, given `domains`, exactly which domains they manage.

    Domains out of the actor's sight are neither given nor taken.
    """
    require_superadmin(actor, SUPERADMINS_ONLY)
    email_other = normalize_address(email_other) if email_other else ""
    if email_other != admin.email_other:
        _check_email_other(
            email_other, username=admin.username, superadmin=stored_superadmin(admin)
        )
    before = {"email_other": admin.email_other, "phone": admin.phone}
    admin.email_other = email_other
    admin.phone = phone.strip()
    admin.modified = timezone.now()
    admin.save(update_fields=["email_other", "phone", "modified"])
    log_action(
        actor=actor,
        domain="",
        action="edit_admin",
        data=describe_changes(
            admin.username, before, {"email_other": admin.email_other, "phone": admin.phone}
        ),
    )
    if domains is not None:
        wanted = {domain.pk for domain in domains}
        # The shell sees every domain; a super admin too (scoped() says so).
        visible = Domain.objects.exclude(pk=ALL_DOMAINS) if actor is None else scoped(actor, Domain)
        assigned = DomainAdmin.objects.filter(username_id=admin.pk, active=True)
        current = {
            domain.pk: domain for domain in visible.filter(domain__in=assigned.values("domain_id"))
        }
        for domain in domains:
            if domain.pk not in current:
                admin_assign_domain(actor=actor, admin=admin, domain=domain)
        for name, domain in current.items():
            if name not in wanted:
                admin_unassign_domain(actor=actor, admin=admin, domain=domain)
    return admin


@transaction.atomic
def admin_set_active(*, actor: Admin | None, admin: Admin, active: bool) -> Admin:
    """Activate or deactivate an admin; nobody deactivates themself or the last super admin."""
    require_superadmin(actor, SUPERADMINS_ONLY)
    admin = Admin.objects.select_for_update().get(pk=admin.pk)
    if not active:
        _guard_not_self(actor, admin, _("deactivate"))
        _guard_last_superadmin(admin)
    admin.active = active
    admin.modified = timezone.now()
    admin.save(update_fields=["active", "modified"])
    state = "active" if active else "inactive"
    log_action(actor=actor, domain="", action="edit_admin", data=f"{admin.username}: {state}")
    return admin


@transaction.atomic
def admin_set_superadmin(*, actor: Admin | None, admin: Admin, superadmin: bool) -> Admin:
    """Promote or demote; nobody demotes themself or the last active super admin."""
    require_superadmin(actor, SUPERADMINS_ONLY)
    admin = Admin.objects.select_for_update().get(pk=admin.pk)
    if not superadmin:
        _guard_not_self(actor, admin, _("demote"))
        _guard_last_superadmin(admin)
    _store_superadmin(admin, superadmin)
    admin.modified = timezone.now()
    admin.save(update_fields=["superadmin", "modified"])
    role = "super admin" if superadmin else "domain admin"
    log_action(actor=actor, domain="", action="edit_admin", data=f"{admin.username}: {role}")
    return admin


@transaction.atomic
def admin_set_password(*, actor: Admin | None, admin: Admin, password: str) -> Admin:
    """Set an admin's password (policy checked); their other sessions end with the old hash."""
    if actor is None or actor.pk != admin.pk:
        require_superadmin(actor, SUPERADMINS_ONLY)
    try:
        _check_password_policy(password, admin)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    admin.set_password(password)
    admin.token = ""
    admin.modified = timezone.now()
    admin.save(update_fields=["password", "token", "modified"])
    log_action(actor=actor, domain="", action="edit_password", data=admin.username)
    return admin


@transaction.atomic
def admin_reset_password(*, admin: Admin, token: str, password: str) -> Admin:
    """Set a forgotten password through a reset link; the link works once and only in time."""
    # The row lock makes a second use of the same link wait, then fail on the changed hash.
    locked = Admin.objects.select_for_update().filter(pk=admin.pk, active=True).first()
    if locked is None or not admin_reset_token.check_token(locked, token):
        raise ValidationError(_("This password reset link is invalid or has expired."))
    return admin_set_password(actor=locked, admin=locked, password=password)


def admin_rehash_password(*, admin: Admin, raw_password: str) -> None:
    """Store a verified password again in the configured scheme (silent upgrade at login)."""
    new_hash = passwords.hash_password(raw_password)
    # A conditional update: a password changed meanwhile by someone else is not overwritten.
    Admin.objects.filter(pk=admin.pk, password=admin.password).update(password=new_hash)
    admin.password = new_hash


@transaction.atomic
def admin_assign_domain(*, actor: Admin | None, admin: Admin, domain: Domain) -> None:
    """Let an admin manage a domain."""
    require_superadmin(actor, SUPERADMINS_ONLY)
    if domain.domain == ALL_DOMAINS:
        raise ValidationError(_("Use “super admin” to give access to every domain."))
    link = DomainAdmin.objects.filter(username_id=admin.pk, domain_id=domain.pk)
    if link.filter(active=True).exists():
        return
    if link.exists():
        link.update(active=True)
    else:
        DomainAdmin.objects.create(username_id=admin.pk, domain_id=domain.pk, active=True)
    forget_domain_names()
    log_action(
        actor=actor,
        domain=domain.domain,
        action="edit_admin",
        data=f"{admin.username}: + {domain.domain}",
    )


@transaction.atomic
def admin_unassign_domain(*, actor: Admin | None, admin: Admin, domain: Domain) -> None:
    """Take a domain away from an admin."""
    require_superadmin(actor, SUPERADMINS_ONLY)
    deleted, _rows = DomainAdmin.objects.filter(username_id=admin.pk, domain_id=domain.pk).delete()
    forget_domain_names()
    if deleted:
        log_action(
            actor=actor,
            domain=domain.domain,
            action="edit_admin",
            data=f"{admin.username}: - {domain.domain}",
        )


@transaction.atomic
def admin_purge(*, actor: Admin | None, admin: Admin) -> None:
    """Delete an admin and their domain assignments; never oneself or the last super admin."""
    require_superadmin(actor, SUPERADMINS_ONLY)
    admin = Admin.objects.select_for_update().get(pk=admin.pk)
    _guard_not_self(actor, admin, _("delete"))
    _guard_last_superadmin(admin)
    DomainAdmin.objects.filter(username_id=admin.pk).delete()
    Admin.objects.filter(pk=admin.pk).delete()
    language_preference_forget(realm=ADMIN, username=admin.pk)
    forget_domain_names()
    log_action(actor=actor, domain="", action="delete_admin", data=admin.username)
