from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from workspaces import auth_views as auth_pages
from workspaces import profile


def favicon(request):
    """Browsers ask for /favicon.ico where a page names no icon (the admin, the API docs)."""
    return redirect(static("favicon.svg"))  # not permanent: the static name carries a hash


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="workspace-switch", permanent=False)),
    path("favicon.ico", favicon),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_pages.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password-reset-done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_pages.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path("invitation/<uidb64>/<token>/", auth_pages.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("profile/", profile.profile, name="profile"),
    path("profile/password/", profile.PasswordChangeView.as_view(), name="password_change"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api")),
    path("w/", include("workspaces.urls")),
    path("w/<slug:workspace_slug>/", include("leads.urls")),
    path("w/<slug:workspace_slug>/", include("accounts.urls")),
    path("w/<slug:workspace_slug>/", include("attribution.urls")),
    path("w/<slug:workspace_slug>/", include("funnel.urls")),
    path("w/<slug:workspace_slug>/", include("sync.urls")),
]
