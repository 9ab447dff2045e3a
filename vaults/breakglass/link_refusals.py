"""Posts to the signed reason link that are refused: counted per client address, and audit-logged
in a bounded way (the pattern of openclaw_web/api/refused_calls.py for refused API calls).

1. Every post counts against its client address (`compliance.audit.client_ip`, the resolver of
   the sign-in lockout). Up to LINK_POSTS_PER_WINDOW of them per LINK_WINDOW_SECONDS go through;
   each one refused (a link tampered with or expired, a second reason) leaves one
   "breakglass.link_refused" entry.
2. Past that budget a post answers 429, and the address gets one "breakglass.link_throttled"
   entry per window, however many posts arrive: the log grows by at most the budget + 1 entries
   per address and window.
3. An entry holds why, and the lengths of the token and of the posted reason, never their text:
   the text is whatever an anonymous poster sent, and a real link's token is a credential.
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest

from compliance import audit
from vaults.breakglass.models import EmergencyUse
from vaults.breakglass.reasons import LinkHolder

# Anonymous posts to the link page per client address and 10 minutes: a person gives one reason;
# anything more is someone trying tokens (a valid one needs the signing key anyway).
LINK_POSTS_PER_WINDOW = 20
LINK_WINDOW_SECONDS = 600
ANONYMOUS = "anonymous (signed link)"


def _key(request: HttpRequest, what: str) -> str:
    return f"breakglass-link-{what}:{audit.client_ip(request) or 'unknown'}"


def too_many(request: HttpRequest) -> bool:
    """Count one post from the request's address; True past the budget (step 2 then logged)."""
    key = _key(request, "posts")
    cache.add(key, 0, LINK_WINDOW_SECONDS)
    try:
        over = cache.incr(key) > LINK_POSTS_PER_WINDOW
    except ValueError:  # expired between add and incr
        return False
    if over and cache.add(_key(request, "throttled"), 1, LINK_WINDOW_SECONDS):
        audit.record("breakglass.link_throttled", actor_label=ANONYMOUS, request=request,
                     details={"posts_per_window": LINK_POSTS_PER_WINDOW, "window_seconds": LINK_WINDOW_SECONDS})  # fmt: skip
    return over


def record_refused(
    request: HttpRequest, *, why: str, token: str, holder: LinkHolder | None = None, event: EmergencyUse | None = None
) -> None:
    """One entry for a refused post (step 3: lengths only). With a valid link, the actor is the
    person it was sent to, as for a reason given."""
    posted = request.POST.get("reason", "")
    actor = f"{holder.label or 'link holder'} (signed link)" if holder is not None else ANONYMOUS
    details = {"why": why[:200], "token_length": len(token), "reason_length": len(posted)}
    if holder is not None:
        details["by"] = holder.who
    audit.record("breakglass.link_refused", actor_label=actor[:300], request=request, target=event, details=details)
