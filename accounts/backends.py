"""Authenticate admins against the `admin` table with any Postfix Admin password format."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts import passwords
from accounts.models import Admin


class AdminBackend(ModelBackend):
    """Log in active admins by e-mail address; upgrade an old-format hash on success."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Admin | None:
        if not username or password is None:
            return None
        username = username.strip().lower()
        admin = Admin.objects.filter(username=username).first()
        if admin is None:
            # Spend the time a real check would take so that timing does not reveal accounts.
            passwords.hash_password(password)
            return None
        if not admin.check_password(password) or not admin.active:
            return None
        if passwords.needs_rehash(admin.password):
            from accounts.services import admin_rehash_password

            admin_rehash_password(admin=admin, raw_password=password)
        return admin

    def get_user(self, user_id: Any) -> Admin | None:
        admin = Admin.objects.filter(username=user_id).first()
        return admin if admin is not None and admin.active else None

    # Admins have no Django permissions; roles are superadmin and domain assignments.
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return False
