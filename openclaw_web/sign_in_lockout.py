"""How long django-axes keeps a (login name, client address) pair locked out: a cool-off that
doubles with every lockout of the same pair within a day (AXES_COOLOFF_TIME calls this).

The first lockout lasts SIGN_IN_COOL_OFF_BASE_HOURS (15 minutes by default), so a person who
mistyped their password five times is not kept out for long; an attacker who comes back for
more from the same address waits 30 minutes, then an hour, ... up to SIGN_IN_COOL_OFF_MAX_HOURS.
The count comes from axes' own failure log (AXES_ENABLE_ACCESS_FAILURE_LOG): every failure of
that pair in the last SIGN_IN_REPEAT_WINDOW_HOURS. Attempts refused during a lockout are not
failures (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is off), so each lockout adds exactly
AXES_FAILURE_LIMIT of them.
"""

from __future__ import annotations

import math
from datetime import timedelta

from axes.helpers import get_client_ip_address, get_client_username
from axes.models import AccessFailureLog
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone


def cool_off_for(request: HttpRequest | None) -> timedelta:
    """1. Without a request (axes' checks, management commands): the base cool-off.
    2. Count the pair's failures logged in the repeat window; the n-th lockout is reached at
       failure n * AXES_FAILURE_LIMIT, and is computed before that failure is logged, so
       ceil(failures / limit) is the number of the lockout this attempt belongs to.
    3. Double the base once per earlier lockout, capped."""
    base = timedelta(hours=settings.SIGN_IN_COOL_OFF_BASE_HOURS)
    longest = timedelta(hours=settings.SIGN_IN_COOL_OFF_MAX_HOURS)
    if request is None:
        return base
    login_name = get_client_username(request)
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    since = timezone.now() - timedelta(hours=settings.SIGN_IN_REPEAT_WINDOW_HOURS)
    failures = AccessFailureLog.objects.filter(username=login_name, ip_address=address, attempt_time__gte=since).count()
    lockout_number = max(1, math.ceil(failures / settings.AXES_FAILURE_LIMIT))
    # The exponent is capped before it is used so a long-running attack cannot overflow it.
    doublings = min(lockout_number - 1, 32)
    return min(base * 2**doublings, longest)
