from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from openclaw_web import views
from vaults.views.dashboard import dashboard

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.password_change, name="password_change"),
    path("accounts/password/done/", views.password_change_done, name="password_change_done"),
    path("accounts/profile/", views.profile, name="profile"),
    path("admin/", admin.site.urls),
    path("", dashboard, name="dashboard"),
    path("vaults/", include("vaults.urls.inventory")),
    path("sync/", include("vaults.urls.sync")),
    path("findings/", include("vaults.findings.urls")),
    path("cleanup/", include("vaults.cleanup.urls")),
    path("reviews/", include("compliance.reviews.urls")),
    path("reports/", include("compliance.reports.urls")),
    path("audit/", include("compliance.urls")),
]
