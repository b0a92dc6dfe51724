from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path("admins/", views.AdminListView.as_view(), name="admin-list"),
    path("admins/new/", views.AdminCreateView.as_view(), name="admin-create"),
    path("admins/<str:username>/", views.AdminDetailView.as_view(), name="admin-detail"),
    path("admins/<str:username>/edit/", views.AdminEditView.as_view(), name="admin-edit"),
    path("admins/<str:username>/toggle/", views.AdminToggleView.as_view(), name="admin-toggle"),
    path(
        "admins/<str:username>/superadmin/",
        views.AdminSuperadminView.as_view(),
        name="admin-superadmin",
    ),
    path(
        "admins/<str:username>/password/",
        views.AdminPasswordView.as_view(),
        name="admin-password",
    ),
    path("admins/<str:username>/delete/", views.AdminDeleteView.as_view(), name="admin-delete"),
    path(
        "admins/<str:username>/domains/assign/",
        views.AdminAssignDomainView.as_view(),
        name="admin-assign-domain",
    ),
    path(
        "admins/<str:username>/domains/<str:domain>/unassign/",
        views.AdminUnassignDomainView.as_view(),
        name="admin-unassign-domain",
    ),
    path("domains/<str:domain>/admins/", views.DomainAdminsView.as_view(), name="domain-admins"),
]
