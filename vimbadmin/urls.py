"""URL routes: one include per app."""

from django.urls import include, path

from selfservice.landing import LandingView
from vimbadmin.i18n import set_language

urlpatterns = [
    path("", LandingView.as_view(), name="home"),
    path("accounts/", include("accounts.urls")),
    path("domains/", include("domains.urls")),
    path("mailboxes/", include("mailboxes.urls")),
    path("aliases/", include("aliases.urls")),
    path("log/", include("auditlog.urls")),
    path("me/", include("selfservice.urls")),
    path("2fa/", include("twofactor.urls")),
    path("api/", include("api.urls")),
    path("bulk/", include("bulk.urls")),
    path("import/", include("csvimport.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
]

# A database lock or statement timeout gets a "busy" page (503) instead of the plain 500.
handler500 = "vimbadmin.errors.server_error"
