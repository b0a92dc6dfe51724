"""The request type of the admin pages: the user is an admin, never anonymous.

`AdminRequiredMixin` lets only active admins through, so every view behind it may pass
`request.user` as a service's `actor`. Django types `HttpRequest.user` as "an admin or anonymous";
this type says what the mixin has checked, for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from accounts.models import Admin


class AuthedRequest(HttpRequest):
    """A request that `AdminRequiredMixin` let in: its user is an active admin."""

    user: Admin
