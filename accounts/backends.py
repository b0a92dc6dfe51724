"""Restore logged-in admins from the session; passwords are checked by accounts.flows only."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.models import Admin


class AdminBackend(ModelBackend):
    """Find the admin of a session while active; never check a password itself."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Admin | None:
        # Every password check goes through accounts.flows, which throttles and records it;
        # Django's authenticate() would be a second, unthrottled way in.
        return None

    def get_user(self, user_id: Any) -> Admin | None:
        admin = Admin.objects.filter(username=user_id).first()
        return admin if admin is not None and admin.active else None

    # Admins have no Django permissions; roles are superadmin and domain assignments.
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return False
