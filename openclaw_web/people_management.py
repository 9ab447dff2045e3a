"""OpenClaw's own people: listing them with their roles, creating them, changing roles, and
deactivating or reactivating them.

Every change here is written to the audit log by `openclaw_web.access_audit` (model signals, so
the Django admin and the shell are covered by the same entries); these functions name the actor
with `acting_as(by)` and keep the rules that stop an administrator from locking themselves out
or a non-superuser from changing a superuser.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from openclaw_web.access_audit import acting_as
from openclaw_web.roles import Role


class PeopleChangeRefused(Exception):
    """The change is not allowed; the message says why, in words for the page."""


def role_groups() -> QuerySet[Group]:
    """The groups that are roles (other groups a person may be in are left alone)."""
    return Group.objects.filter(name__in=[role.value for role in Role])


def people_overview() -> QuerySet[User]:
    """Every person with their roles (prefetched) and whether a confirmed two-factor device exists:
    three queries whatever the number of people."""
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return (User.objects.annotate(has_two_factor=Exists(confirmed))
            .prefetch_related(Prefetch("groups", queryset=role_groups().order_by("name"), to_attr="role_groups"))
            .order_by("-is_active", "username"))


def _check_may_change(*, person: User, by: User) -> None:
    if person.is_superuser and not by.is_superuser:
        raise PeopleChangeRefused(f"{person.get_username()} is a superuser: only a superuser can change that account.")


def roles_of_person(person: User) -> list[Role]:
    names = set(person.groups.values_list("name", flat=True))
    return [role for role in Role if role.value in names]


@transaction.atomic
def create_person(*, user: User, roles: Iterable[Role], by: User) -> User:
    """Save a new (unsaved) `user` built by the creation form, then give them `roles`."""
    with acting_as(by):
        user.save()
        groups = [Group.objects.get_or_create(name=role.value)[0] for role in roles]
        user.groups.add(*groups)
    return user


@transaction.atomic
def set_roles(*, person: User, roles: Iterable[Role], by: User) -> tuple[list[Role], list[Role]]:
    """Give `person` exactly `roles` (their other groups stay); return (added, removed).

    Nobody removes their own admin role here: the last administrator could otherwise lock
    everyone out of this page."""
    _check_may_change(person=person, by=by)
    wanted = set(roles)
    current = set(roles_of_person(person))
    if person.pk == by.pk and Role.ADMIN in current and Role.ADMIN not in wanted:
        raise PeopleChangeRefused("You cannot remove your own admin role; ask another administrator.")
    added = sorted(wanted - current)
    removed = sorted(current - wanted)
    with acting_as(by):
        if removed:
            person.groups.remove(*Group.objects.filter(name__in=[r.value for r in removed]))
        if added:
            person.groups.add(*[Group.objects.get_or_create(name=r.value)[0] for r in added])
    return added, removed


@transaction.atomic
def set_active(*, person: User, active: bool, by: User) -> bool:
    """(De)activate `person`; return whether anything changed. A deactivated person cannot sign
    in, and their API tokens stop working (tokens.token_for checks `is_active`)."""
    _check_may_change(person=person, by=by)
    if person.pk == by.pk and not active:
        raise PeopleChangeRefused("You cannot deactivate your own account.")
    if person.is_active == active:
        return False
    person.is_active = active
    with acting_as(by):
        person.save(update_fields=["is_active"])
    return True
