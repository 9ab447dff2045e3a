"""Request type for views: Django's HttpRequest plus django-htmx's `request.htmx`; and the
signed-in person behind a request."""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def signed_in_user(request: HttpRequest) -> User:
    """The person behind a request that `@requires` let through (typed `User`, not the
    `User | AnonymousUser` of `request.user`). An anonymous request is refused here too, so a
    view that lost its decorator fails closed instead of acting as nobody."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return user
