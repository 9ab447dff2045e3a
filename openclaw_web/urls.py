from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from openclaw_web import views
from openclaw_web.api.api import api
from vaults.views.dashboard import dashboard

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.password_change, name="password_change"),
    path("accounts/password/done/", views.password_change_done, name="password_change_done"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/tokens/", views.api_token_create, name="api_token_create"),
    path("accounts/tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("accounts/two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/confirm/", views.two_factor_confirm, name="two_factor_confirm"),
    path("accounts/two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", dashboard, name="dashboard"),
    path("vaults/", include("vaults.urls.inventory")),
    path("sync/", include("vaults.urls.sync")),
    path("findings/", include("vaults.findings.urls")),
    path("cleanup/", include("vaults.cleanup.urls")),
    path("reviews/", include("compliance.reviews.urls")),
    path("reports/", include("compliance.reports.urls")),
    path("audit/", include("compliance.urls")),
]
