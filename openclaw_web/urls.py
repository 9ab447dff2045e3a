from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from openclaw_web import people_admin, views
from openclaw_web.api.api import api
from vaults.views.dashboard import dashboard
from vaults.views.search import search_page
from vaults.views.usage import usage

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
    path("accounts/two-factor/recovery-codes/", views.two_factor_recovery_codes, name="two_factor_recovery_codes"),
    path("accounts/two-factor/reset/<int:user_id>/", views.two_factor_admin_reset, name="two_factor_admin_reset"),
    path("settings/people/", people_admin.people_admin, name="people_admin"),
    path("settings/people/new/", people_admin.people_admin_create, name="people_admin_create"),
    path("settings/people/<int:pk>/roles/", people_admin.people_admin_roles, name="people_admin_roles"),
    path("settings/people/<int:pk>/active/", people_admin.people_admin_active, name="people_admin_active"),
    path("api/v1/", api.urls),
    # Browsers ask for /favicon.ico whatever the page links; answering stops a 404 per visit.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg")), name="favicon"),
    path("", dashboard, name="dashboard"),
    path("search/", search_page, name="search"),
    path("vaults/", include("vaults.urls.inventory")),
    # End dates and the contractor report live under the people pages they extend.
    path("vaults/people/", include("vaults.access_expiry.urls")),
    path("usage/", usage, name="usage"),
    path("sync/", include("vaults.urls.sync")),
    path("findings/", include("vaults.findings.urls")),
    path("cleanup/", include("vaults.cleanup.urls")),
    path("break-glass/", include("vaults.breakglass.urls")),
    path("offboarding/", include("vaults.offboarding.urls")),
    path("reviews/", include("compliance.reviews.urls")),
    path("reports/", include("compliance.reports.urls")),
    path("audit/", include("compliance.urls")),
    path("alerts/", include("compliance.alerts.urls")),
    path("tickets/", include("compliance.tickets.urls")),
]

# Off unless ADMIN_ENABLED=1: people and roles are managed on /settings/people/.
if settings.ADMIN_ENABLED:
    urlpatterns.insert(0, path("admin/", admin.site.urls))
