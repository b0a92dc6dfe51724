"""Alias pages; an alias is named by its address (`@domain` for a catch-all)."""

from django.urls import path

from aliases import views

app_name = "aliases"
urlpatterns = [
    path("", views.AliasListView.as_view(), name="alias-list"),
    path("new/", views.AliasCreateView.as_view(), name="alias-create"),
    # Before "<address>/": an alias address always has an @, so these never collide.
    path("room/", views.AliasRoomView.as_view(), name="alias-room"),
    path("suggest/", views.AliasSuggestView.as_view(), name="alias-suggest"),
    path("<str:address>/", views.AliasUpdateView.as_view(), name="alias-edit"),
    path("<str:address>/toggle/", views.AliasToggleView.as_view(), name="alias-toggle"),
    path("<str:address>/delete/", views.AliasDeleteView.as_view(), name="alias-delete"),
]
