"""Domain and alias domain pages; object URLs use the stored (punycode) domain name."""

from django.urls import path

from domains import views

app_name = "domains"
urlpatterns = [
    path("", views.DomainListView.as_view(), name="domain-list"),
    path("new/", views.DomainCreateView.as_view(), name="domain-create"),
    # Before "<domain>/": a domain name always has a dot, so these never collide.
    path("suggest/", views.DomainSuggestView.as_view(), name="domain-suggest"),
    path("alias-domains/", views.AliasDomainListView.as_view(), name="aliasdomain-list"),
    path("alias-domains/new/", views.AliasDomainCreateView.as_view(), name="aliasdomain-create"),
    path(
        "alias-domains/<str:alias_domain>/toggle/",
        views.AliasDomainToggleView.as_view(),
        name="aliasdomain-toggle",
    ),
    path(
        "alias-domains/<str:alias_domain>/delete/",
        views.AliasDomainDeleteView.as_view(),
        name="aliasdomain-delete",
    ),
    path("<str:domain>/", views.DomainDetailView.as_view(), name="domain-detail"),
    path("<str:domain>/work/", views.DomainWorkView.as_view(), name="domain-work"),
    path("<str:domain>/edit/", views.DomainEditView.as_view(), name="domain-edit"),
    path("<str:domain>/toggle/", views.DomainToggleView.as_view(), name="domain-toggle"),
    path("<str:domain>/purge/", views.DomainPurgeView.as_view(), name="domain-purge"),
]
