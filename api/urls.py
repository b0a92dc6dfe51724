"""/api/: the REST API (v1), its OpenAPI document and docs, and the admin's token pages."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from api import docs, endpoints, endpoints_admins, endpoints_mailbox_settings, export, views

app_name = "api"

router = SimpleRouter()
router.register("domains", endpoints.DomainViewSet, basename="domain")
router.register("mailboxes", endpoints.MailboxViewSet, basename="mailbox")
# A mailbox's forwarding, vacation and app passwords: only actions under mailboxes/<address>/.
router.register(
    "mailboxes", endpoints_mailbox_settings.MailboxSettingsViewSet, basename="mailbox-settings"
)
router.register("aliases", endpoints.AliasViewSet, basename="alias")
router.register("alias-domains", endpoints.AliasDomainViewSet, basename="aliasdomain")
router.register("admins", endpoints_admins.AdminViewSet, basename="admin")
router.register("log", endpoints_admins.LogViewSet, basename="log")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.docs_view, name="docs"),
    path("tokens/", views.TokenListView.as_view(), name="tokens"),
    path("tokens/<int:pk>/revoke/", views.TokenRevokeView.as_view(), name="token-revoke"),
    # CSV exports of the lists (session, as the pages): the list's query string applies.
    path("export/domains.csv", export.DomainExportView.as_view(), name="export-domains"),
    path("export/mailboxes.csv", export.MailboxExportView.as_view(), name="export-mailboxes"),
    path("export/aliases.csv", export.AliasExportView.as_view(), name="export-aliases"),
    path(
        "export/alias-domains.csv",
        export.AliasDomainExportView.as_view(),
        name="export-aliasdomains",
    ),
    path("export/log.csv", export.LogExportView.as_view(), name="export-log"),
]
