"""The product's URL conf with the Django admin mounted, as ADMIN_ENABLED=1 does, for tests that
drive the admin without reloading `openclaw_web.urls`."""

from django.contrib import admin
from django.urls import path

from openclaw_web.urls import urlpatterns as product_urlpatterns

urlpatterns = [path("admin/", admin.site.urls), *product_urlpatterns]
