"""Roles (Django groups) and the capability matrix every view and API route is checked against.

A view declares the one capability it needs with `@requires(Capability.X)`; the decorator stores
it on the view so the authorization test can walk the URL conf and fail on any route without a
rule. Superusers hold every capability.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from functools import cache, wraps
from types import MappingProxyType
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase


class Role(enum.StrEnum):
    ADMIN = "admin"
    TEAM_LEAD = "team lead"
    APPROVER = "approver"
    COMPLIANCE_OFFICER = "compliance officer"
    AUDITOR = "auditor"
    VIEWER = "viewer"


class Capability(enum.StrEnum):
    VIEW_INVENTORY = "view inventory"  # dashboard, vaults, items, people, findings, sync status
    TRIGGER_SYNC = "trigger sync"
    MANAGE_FINDINGS = "manage findings"  # accept a risk, reopen
    EDIT_POLICY = "edit policy"  # policies, vault classification and owners, accounts
    PROPOSE_CLEANUP = "propose cleanup"
    APPROVE_CLEANUP = "approve cleanup"
    VIEW_CLEANUP = "view cleanup"
    MANAGE_REVIEWS = "manage reviews"  # open, remind, sign off
    DECIDE_REVIEWS = "decide reviews"
    SECOND_APPROVE_REVIEWS = "second-approve reviews"  # the four-eyes approval of a sign-off
    VIEW_REVIEWS = "view reviews"
    GENERATE_REPORTS = "generate reports"
    VIEW_REPORTS = "view reports"  # list and download artifacts
    VIEW_AUDIT_LOG = "view audit log"
    USE_API = "use api"
    OWN_PROFILE = "own profile"
    MANAGE_PEOPLE = "manage people"  # OpenClaw's own accounts: create, roles, (de)activate
    RESET_TWO_FACTOR = "reset two-factor"  # remove another person's lost device (they enrol again)
    CREATE_TICKETS = "create tickets"  # send a finding, plan or case to a tracker; export ticket CSV
    MANAGE_TICKET_DESTINATIONS = "manage ticket destinations"  # Jira / Linear / webhook settings
    MANAGE_ALERTS = "manage alerts"  # alert rules and channels, "send a test"; reading them is VIEW_AUDIT_LOG


_EVERYONE = frozenset(Role)

MATRIX: dict[Capability, frozenset[Role]] = {
    Capability.VIEW_INVENTORY: _EVERYONE,
    Capability.TRIGGER_SYNC: frozenset({Role.ADMIN}),
    Capability.MANAGE_FINDINGS: frozenset({Role.ADMIN, Role.TEAM_LEAD, Role.COMPLIANCE_OFFICER}),
    Capability.EDIT_POLICY: frozenset({Role.ADMIN}),
    Capability.PROPOSE_CLEANUP: frozenset({Role.ADMIN, Role.TEAM_LEAD}),
    Capability.APPROVE_CLEANUP: frozenset({Role.ADMIN, Role.APPROVER}),
    Capability.VIEW_CLEANUP: frozenset(
        {Role.ADMIN, Role.TEAM_LEAD, Role.APPROVER, Role.COMPLIANCE_OFFICER, Role.AUDITOR}
    ),
    Capability.MANAGE_REVIEWS: frozenset({Role.ADMIN, Role.COMPLIANCE_OFFICER}),
    Capability.DECIDE_REVIEWS: frozenset({Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.TEAM_LEAD}),
    # A compliance officer or an approver: the people who may sign off or approve changes.
    Capability.SECOND_APPROVE_REVIEWS: frozenset({Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.APPROVER}),
    Capability.VIEW_REVIEWS: frozenset(
        {Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.TEAM_LEAD, Role.APPROVER, Role.AUDITOR}
    ),
    Capability.GENERATE_REPORTS: frozenset({Role.ADMIN, Role.COMPLIANCE_OFFICER}),
    Capability.VIEW_REPORTS: frozenset({Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.AUDITOR}),
    Capability.VIEW_AUDIT_LOG: frozenset({Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.AUDITOR}),
    Capability.USE_API: _EVERYONE,
    Capability.OWN_PROFILE: _EVERYONE,
    Capability.MANAGE_PEOPLE: frozenset({Role.ADMIN}),
    Capability.RESET_TWO_FACTOR: frozenset({Role.ADMIN}),
    # Those who act on findings raise tickets for them; destinations (where findings' metadata is
    # sent, with which credential variable) are set by an administrator or compliance officer.
    Capability.CREATE_TICKETS: frozenset({Role.ADMIN, Role.TEAM_LEAD, Role.COMPLIANCE_OFFICER}),
    Capability.MANAGE_TICKET_DESTINATIONS: frozenset({Role.ADMIN, Role.COMPLIANCE_OFFICER}),
    # Alert rules and channels decide what leaves for outside systems: as ticket destinations.
    Capability.MANAGE_ALERTS: frozenset({Role.ADMIN, Role.COMPLIANCE_OFFICER}),
}


def roles_named(names: Iterable[str]) -> frozenset[Role]:
    """The OpenClaw roles among group names (other groups are no role)."""
    names = set(names)
    return frozenset(role for role in Role if role.value in names)


def remember_roles(user: AbstractBaseUser, names: Iterable[str]) -> None:
    """Keep the roles read with the user (openclaw_web/auth_backend.py) for this request."""
    user._openclaw_roles = roles_named(names)  # type: ignore[attr-defined]  # per-request memo on the user


def roles_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[Role]:
    if not user.is_authenticated:
        return frozenset()
    if getattr(user, "is_superuser", False):
        return _EVERYONE
    if not hasattr(user, "_openclaw_roles"):
        remember_roles(user, user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]  # auth.User has groups
    return user._openclaw_roles  # type: ignore[attr-defined]  # set by remember_roles


def active_people_with(roles: Iterable[Role]) -> QuerySet[User]:
    """Active people holding any of `roles` through their groups, superusers included (they hold
    every role, as in `roles_of`), each once, by username: the one query every notice and picker
    uses to find who may act."""
    names = [role.value for role in roles]
    people = get_user_model().objects.filter(Q(groups__name__in=names) | Q(is_superuser=True), is_active=True)
    return people.distinct().order_by("username")


def active_administrators() -> QuerySet[User]:
    return active_people_with([Role.ADMIN])


def has_capability(user: AbstractBaseUser | AnonymousUser, capability: Capability) -> bool:
    return bool(roles_of(user) & MATRIX[capability])


V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def requires(capability: Capability) -> Callable[[V], V]:
    """Anonymous visitors go to the login page; signed-in users without the capability get 403."""

    def decorate(view: V) -> V:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_capability(request.user, capability):
                raise PermissionDenied(f"Your role does not allow: {capability.value}.")
            return view(request, *args, **kwargs)

        checked.required_capability = capability  # type: ignore[attr-defined]  # read by the authorization test
        return checked  # type: ignore[return-value]  # wraps() keeps the view's signature

    return decorate


@cache
def roles_context_for(roles: frozenset[Role]) -> Mapping[str, bool]:
    """`can` for a set of roles: capability name (lower case) -> held."""
    # A handful of role sets per process; read-only, since every request shares it.
    return MappingProxyType({cap.name.lower(): bool(roles & MATRIX[cap]) for cap in Capability})


def roles_context(request: HttpRequest) -> dict[str, Any]:
    """Templates ask `can.approve_cleanup` instead of repeating the matrix."""
    user = getattr(request, "user", None)
    if user is None:
        return {"can": {}, "user_roles": []}
    roles = roles_of(user)
    return {"can": roles_context_for(roles), "user_roles": sorted(role.value for role in roles)}
