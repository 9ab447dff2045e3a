"""Every change to OpenClaw's own people, roles and credentials goes into the audit log.

Views record what a person does; this module records what happens to accounts whatever the path
(a page, the Django admin, `manage.py shell`, `createsuperuser`, `changepassword`, a data
migration in a shell): model signals see all of them. That is why this is signal-based although
the project keeps domain logic out of signals: the point here is to catch the paths that bypass
the domain functions. Nothing here decides anything; it only writes audit entries.

Recorded (actions start with `people.` so the SOC 2 report can find them, plus the API token
actions `api_token.*` shared with `openclaw_web/tokens.py`):
1. users created, deleted, (de)activated, and changes to username, e-mail, name, staff and
   superuser flags (before -> after; never the password hash);
2. password changes, detected by the stored hash changing, recorded without hash or password;
3. roles (groups) added to or removed from a user from either side of the relation
   (`user.groups.add`, `group.user_set.remove`, `.clear()`, `.set()`), one entry per
   person and role; groups created, renamed or deleted (a renamed group changes who holds a role);
4. direct Django permissions added to or removed from a user;
5. two-factor devices (any django_otp device: TOTP, static) created, confirmed, re-keyed, deleted;
6. API tokens created, revoked or deleted outside `tokens.py` (which writes its own entry).

The actor is the person named by `acting_as(...)`, else the signed-in person of the current request
(set by `AccessAuditMiddleware`), else the management command in progress ("manage.py createsuperuser"), else "system".

Not seen: `QuerySet.update()` and raw SQL bypass Django's signals (for example
`User.objects.filter(...).update(is_active=False)`); no code in OpenClaw writes users that way.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import FrameType
from typing import Any

from django.apps import apps
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.http import HttpRequest, HttpResponse

from compliance import audit

ACTION_PREFIX = "people."
# The API token actions share their names with the entries `tokens.py` writes itself.
TOKEN_ACTIONS = ("api_token.created", "api_token.revoked", "api_token.deleted")

# How the reports and pages name each recorded change.
ACTION_LABELS: dict[str, str] = {
    f"{ACTION_PREFIX}user_created": "Person created",
    f"{ACTION_PREFIX}user_changed": "Person's details changed",
    f"{ACTION_PREFIX}user_activated": "Person reactivated",
    f"{ACTION_PREFIX}user_deactivated": "Person deactivated",
    f"{ACTION_PREFIX}user_deleted": "Person deleted",
    f"{ACTION_PREFIX}password_changed": "Password changed",
    f"{ACTION_PREFIX}password_hash_replaced": "Password hash replaced",
    f"{ACTION_PREFIX}role_added": "Role added",
    f"{ACTION_PREFIX}role_removed": "Role removed",
    f"{ACTION_PREFIX}role_created": "Role (group) created",
    f"{ACTION_PREFIX}role_renamed": "Role (group) renamed",
    f"{ACTION_PREFIX}role_deleted": "Role (group) deleted",
    f"{ACTION_PREFIX}permission_added": "Django permission added",
    f"{ACTION_PREFIX}permission_removed": "Django permission removed",
    f"{ACTION_PREFIX}2fa_device_created": "Two-factor device created",
    f"{ACTION_PREFIX}2fa_device_confirmed": "Two-factor device confirmed",
    f"{ACTION_PREFIX}2fa_device_key_replaced": "Two-factor key replaced",
    f"{ACTION_PREFIX}2fa_device_deleted": "Two-factor device deleted",
    "api_token.created": "API token created",
    "api_token.revoked": "API token revoked",
    "api_token.deleted": "API token deleted",
}
ROLE_CHANGE_ACTIONS = (f"{ACTION_PREFIX}role_added", f"{ACTION_PREFIX}role_removed")

# User fields whose change alters who can sign in or what they can do, or who an entry names.
# `last_login` is deliberately absent: it changes at every sign-in, which `auth.login` records.
USER_FIELDS = ("username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser")
_USER_WATCHED = frozenset((*USER_FIELDS, "password"))
_DEVICE_WATCHED = frozenset({"confirmed", "key"})
_TOKEN_WATCHED = frozenset({"revoked_at"})

# Up to this many frames are searched for a running management command. createsuperuser and
# changepassword reach a receiver 7-8 frames below the command (measured with call_command); a
# command going through deeper domain code, or a `shell` session, needs more, but not 120.
_COMMAND_FRAME_DEPTH = 120

_NOT_READ = object()  # pre_save skipped reading the row: this save touched no watched field

_current_request: ContextVar[HttpRequest | None] = ContextVar("access_audit_request", default=None)
_current_actor: ContextVar[User | None] = ContextVar("access_audit_actor", default=None)
_recorded_by_caller: ContextVar[frozenset[type[Model]]] = ContextVar("access_audit_recorded_by_caller",
                                                                     default=frozenset())


class AccessAuditMiddleware:
    """Makes the current request (its user and address) known to the receivers below.

    Placed after AuthenticationMiddleware; `request.user` is read only when an entry is written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


@contextmanager
def acting_as(user: User) -> Iterator[None]:
    """Name `user` as the actor of the changes made within the block, whatever the request (or
    lack of one): domain functions that take a `by` argument use it so a task or a test names the
    same person a page would."""
    token = _current_actor.set(user)
    try:
        yield
    finally:
        _current_actor.reset(token)


@contextmanager
def recorded_by_caller(*models: type[Model]) -> Iterator[None]:
    """Within this block the caller writes its own, richer audit entry for creating rows of
    `models`; the receivers stay silent so the log holds one entry per change."""
    token = _recorded_by_caller.set(_recorded_by_caller.get() | frozenset(models))
    try:
        yield
    finally:
        _recorded_by_caller.reset(token)


def _running_command() -> str | None:
    """The name of the management command on the call stack, if any ("createsuperuser").

    Management commands have no signal of their own; walking the frames finds one however it
    was started (manage.py, call_command, a shell session is the `shell` command)."""
    frame: FrameType | None = sys._getframe(1)
    for _ in range(_COMMAND_FRAME_DEPTH):
        if frame is None:
            return None
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, BaseCommand):
            return type(candidate).__module__.rsplit(".", 1)[-1]
        frame = frame.f_back
    return None


def _record(action: str, *, user_id: int | None, user_label: str, details: dict[str, Any]) -> None:
    request = _current_request.get()
    actor = _current_actor.get() or (getattr(request, "user", None) if request is not None else None)
    if actor is not None and actor.is_authenticated:
        audit.record(action, actor=actor, request=request, target_type="auth.user", target_id=str(user_id or ""),
                     target_label=user_label, details=details)
        return
    if request is not None:
        label = "anonymous request"
    else:
        command = _running_command()
        label = f"manage.py {command}" if command else "system"
    audit.record(action, actor_label=label, request=request, target_type="auth.user",
                 target_id=str(user_id or ""), target_label=user_label, details=details)


def change_summary(action: str, details: dict[str, Any]) -> str:
    """One line saying what changed, from an entry's details (which never hold a secret)."""
    if "role" in details:
        text = f"role “{details['role']}”"
        return f"{text} (was “{details['renamed_from']}”)" if "renamed_from" in details else text
    if "permission" in details:
        return f"permission {details['permission']}"
    if "changes" in details:
        return "; ".join(f"{name}: {before} → {after}" for name, (before, after) in sorted(details["changes"].items()))
    if "device" in details:
        return f"{details['device']} “{details.get('device_name', '')}”"
    if "prefix" in details:
        return f"token “{details.get('name', '')}” (oc_{details['prefix']}_…)"
    if action == f"{ACTION_PREFIX}user_created":
        flags = [name for name in ("is_superuser", "is_staff") if details.get(name)]
        return ", ".join(flags) if flags else ""
    if "how" in details:
        return str(details["how"])
    return ""


def _watched_change(update_fields: frozenset[str] | None, watched: frozenset[str]) -> bool:
    return update_fields is None or bool(update_fields & watched)


# --- users --------------------------------------------------------------------------------


def _user_pre_save(sender: type[User], instance: User, update_fields: frozenset[str] | None = None,
                   **kwargs: Any) -> None:
    """Remember the stored row so post_save can tell what really changed (one query, skipped for
    saves that touch no watched field, such as the last_login update at every sign-in)."""
    if instance.pk is None or not _watched_change(update_fields, _USER_WATCHED):
        return
    instance._access_audit_before = (  # type: ignore[attr-defined]  # pre_save -> post_save memo
        sender.objects.filter(pk=instance.pk).values(*USER_FIELDS, "password").first())


def _user_post_save(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    label = instance.get_username()
    if created:
        _record(f"{ACTION_PREFIX}user_created", user_id=instance.pk, user_label=label, details={
            "user": label, "email": instance.email, "is_active": instance.is_active, "is_staff": instance.is_staff,
            "is_superuser": instance.is_superuser, "usable_password": instance.has_usable_password()})
        return
    before = instance.__dict__.pop("_access_audit_before", None)
    if before is None:
        return
    changes = {name: [before[name], getattr(instance, name)] for name in USER_FIELDS
               if before[name] != getattr(instance, name)}
    active = changes.pop("is_active", None)
    if active is not None:
        _record(f"{ACTION_PREFIX}user_{'activated' if instance.is_active else 'deactivated'}",
                user_id=instance.pk, user_label=label, details={"user": label})
    if changes:
        _record(f"{ACTION_PREFIX}user_changed", user_id=instance.pk, user_label=label,
                details={"user": label, "changes": changes})
    if before["password"] != instance.password:
        _record_password_change(instance, old_hash=before["password"])


def _record_password_change(user: User, *, old_hash: str) -> None:
    """Only facts about the change go into the entry, never a hash or a password.

    `set_password` leaves the clear password on `_password` until the save completes; a hash
    written without it is either Django upgrading an outdated hash at sign-in or someone assigning
    a hash directly, told apart as far as the old hash allows."""
    label = user.get_username()
    if getattr(user, "_password", None) is not None or not user.has_usable_password():
        how = "set" if user.has_usable_password() else "made unusable"
        _record(f"{ACTION_PREFIX}password_changed", user_id=user.pk, user_label=label,
                details={"user": label, "how": how})
        return
    try:
        outdated = identify_hasher(old_hash).must_update(old_hash)
    except ValueError:  # the old value was unusable or not a hash at all
        outdated = False
    _record(f"{ACTION_PREFIX}password_hash_replaced", user_id=user.pk, user_label=label,
            details={"user": label, "old_hash_was_outdated": outdated})


def _user_post_delete(sender: type[User], instance: User, **kwargs: Any) -> None:
    label = instance.get_username()
    _record(f"{ACTION_PREFIX}user_deleted", user_id=instance.pk, user_label=label, details={"user": label})


# --- roles (groups) and direct permissions --------------------------------------------------


def _membership_receiver(*, kind: str, related: type[Model], related_label: Callable[[Model], str]) -> Callable[..., None]:
    """A receiver for one of User's many-to-many relations (groups, user_permissions).

    Django sends `pk_set` with the ids actually added, but for remove it sends the ids asked for
    (members or not) and for clear none at all, so the pairs that really exist are read in the
    pre_ step and written in the post_ step."""
    through = User._meta.get_field("groups" if kind == "role" else "user_permissions").remote_field.through  # type: ignore[union-attr]  # a many-to-many: has remote_field
    related_column = "group_id" if kind == "role" else "permission_id"

    def pairs(instance: Model, reverse: bool, pk_set: set[int] | None) -> list[tuple[int, int]]:
        rows = through.objects.filter(**({related_column: instance.pk} if reverse else {"user_id": instance.pk}))
        if pk_set is not None:
            rows = rows.filter(**({"user_id__in": pk_set} if reverse else {f"{related_column}__in": pk_set}))
        return list(rows.values_list("user_id", related_column))

    def receiver(sender: Any, instance: Model, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any) -> None:
        if action in ("pre_remove", "pre_clear"):
            instance._access_audit_removing = pairs(instance, reverse, pk_set)  # type: ignore[attr-defined]  # pre_ -> post_ memo
            return
        if action == "post_add":
            changed = [(p, instance.pk) if reverse else (instance.pk, p) for p in (pk_set or ())]
            verb = "added"
        elif action in ("post_remove", "post_clear"):
            changed = instance.__dict__.pop("_access_audit_removing", [])
            verb = "removed"
        else:
            return
        if not changed:
            return
        users = dict(User.objects.filter(pk__in={u for u, _ in changed}).values_list("pk", "username"))
        names = {obj.pk: related_label(obj) for obj in related._default_manager.filter(pk__in={r for _, r in changed})}
        for user_id, related_id in sorted(changed):
            label = users.get(user_id, f"user #{user_id}")
            _record(f"{ACTION_PREFIX}{kind}_{verb}", user_id=user_id, user_label=label,
                    details={"user": label, kind: names.get(related_id, f"#{related_id}")})

    return receiver


def _group_pre_save(sender: type[Group], instance: Group, **kwargs: Any) -> None:
    if instance.pk is not None:
        instance._access_audit_before = sender.objects.filter(pk=instance.pk).values_list("name", flat=True).first()  # type: ignore[attr-defined]  # pre_save -> post_save memo


def _group_post_save(sender: type[Group], instance: Group, created: bool, **kwargs: Any) -> None:
    before = instance.__dict__.pop("_access_audit_before", None)
    if created:
        _record_role(f"{ACTION_PREFIX}role_created", {"role": instance.name})
    elif before is not None and before != instance.name:
        _record_role(f"{ACTION_PREFIX}role_renamed", {"role": instance.name, "renamed_from": before})


def _group_post_delete(sender: type[Group], instance: Group, **kwargs: Any) -> None:
    _record_role(f"{ACTION_PREFIX}role_deleted", {"role": instance.name})


def _record_role(action: str, details: dict[str, Any]) -> None:
    _record(action, user_id=None, user_label="", details=details)


# --- two-factor devices -------------------------------------------------------------------


def _device_pre_save(sender: type[Model], instance: Any, update_fields: frozenset[str] | None = None,
                     **kwargs: Any) -> None:
    """django-otp saves a device at every code check (counters, drift); only `confirmed` and the
    key matter here, so other saves cost no query."""
    if instance.pk is None or not _watched_change(update_fields, _DEVICE_WATCHED):
        return
    fields = [f for f in ("confirmed", "key") if hasattr(instance, f)]
    instance._access_audit_before = sender._default_manager.filter(pk=instance.pk).values(*fields).first()


def _device_details(instance: Any) -> dict[str, Any]:
    # The device's type and name only: its key and any static codes never enter the log.
    return {"user": instance.user.get_username(), "device": type(instance).__name__, "device_id": instance.pk,
            "device_name": instance.name, "confirmed": instance.confirmed}


def _device_post_save(sender: type[Model], instance: Any, created: bool, **kwargs: Any) -> None:
    user = instance.user
    before = instance.__dict__.pop("_access_audit_before", None)
    if created:
        _record(f"{ACTION_PREFIX}2fa_device_created", user_id=user.pk, user_label=user.get_username(),
                details=_device_details(instance))
        return
    if before is None:
        return
    if not before["confirmed"] and instance.confirmed:
        _record(f"{ACTION_PREFIX}2fa_device_confirmed", user_id=user.pk, user_label=user.get_username(),
                details=_device_details(instance))
    if "key" in before and before["key"] != instance.key:
        _record(f"{ACTION_PREFIX}2fa_device_key_replaced", user_id=user.pk, user_label=user.get_username(),
                details=_device_details(instance))


def _device_post_delete(sender: type[Model], instance: Any, **kwargs: Any) -> None:
    user = User.objects.filter(pk=instance.user_id).first()  # gone already when the user was deleted
    label = user.get_username() if user is not None else f"user #{instance.user_id}"
    _record(f"{ACTION_PREFIX}2fa_device_deleted", user_id=instance.user_id, user_label=label,
            details={"user": label, "device": type(instance).__name__, "device_id": instance.pk,
                     "device_name": instance.name})


# --- API tokens ---------------------------------------------------------------------------


def _token_pre_save(sender: type[Model], instance: Any, update_fields: frozenset[str] | None = None,
                    **kwargs: Any) -> None:
    if instance.pk is None or not _watched_change(update_fields, _TOKEN_WATCHED):
        return
    instance._access_audit_before = sender._default_manager.filter(pk=instance.pk).values_list(
        "revoked_at", flat=True).first()


def _token_details(instance: Any, user_label: str) -> dict[str, Any]:
    # Name and public prefix, as tokens.py records them; the hash never.
    return {"user": user_label, "name": instance.name, "prefix": instance.prefix}


def _token_post_save(sender: type[Model], instance: Any, created: bool, **kwargs: Any) -> None:
    before = instance.__dict__.pop("_access_audit_before", _NOT_READ)
    label = instance.user.get_username()
    if created:
        if sender not in _recorded_by_caller.get():
            _record("api_token.created", user_id=instance.user_id, user_label=label,
                    details=_token_details(instance, label))
        return
    if before is None and instance.revoked_at is not None:  # was active when read, revoked by this save
        _record("api_token.revoked", user_id=instance.user_id, user_label=label, details=_token_details(instance, label))


def _token_post_delete(sender: type[Model], instance: Any, **kwargs: Any) -> None:
    user = User.objects.filter(pk=instance.user_id).first()
    label = user.get_username() if user is not None else f"user #{instance.user_id}"
    _record("api_token.deleted", user_id=instance.user_id, user_label=label, details=_token_details(instance, label))


def _otp_device_models() -> list[type[Model]]:
    """Every installed django_otp device model (TOTP; static codes when that plugin is on)."""
    from django_otp.models import Device

    return [model for model in apps.get_models() if issubclass(model, Device)]


def connect() -> None:
    """Called once from OpenclawWebConfig.ready(); `dispatch_uid`s make a second call harmless."""
    from openclaw_web.models import ApiToken

    uid = "openclaw_access_audit"
    pre_save.connect(_user_pre_save, sender=User, dispatch_uid=f"{uid}_user_pre")
    post_save.connect(_user_post_save, sender=User, dispatch_uid=f"{uid}_user_post")
    post_delete.connect(_user_post_delete, sender=User, dispatch_uid=f"{uid}_user_delete")
    m2m_changed.connect(_membership_receiver(kind="role", related=Group, related_label=lambda g: g.name),  # type: ignore[attr-defined]  # g is a Group
                        sender=User.groups.through, dispatch_uid=f"{uid}_groups", weak=False)
    m2m_changed.connect(
        _membership_receiver(kind="permission", related=Permission,
                             related_label=lambda p: f"{p.content_type.app_label}.{p.codename}"),  # type: ignore[attr-defined]  # p is a Permission
        sender=User.user_permissions.through, dispatch_uid=f"{uid}_permissions", weak=False)
    pre_save.connect(_group_pre_save, sender=Group, dispatch_uid=f"{uid}_group_pre")
    post_save.connect(_group_post_save, sender=Group, dispatch_uid=f"{uid}_group_post")
    post_delete.connect(_group_post_delete, sender=Group, dispatch_uid=f"{uid}_group_delete")
    for model in _otp_device_models():
        name = model._meta.label_lower
        pre_save.connect(_device_pre_save, sender=model, dispatch_uid=f"{uid}_{name}_pre")
        post_save.connect(_device_post_save, sender=model, dispatch_uid=f"{uid}_{name}_post")
        post_delete.connect(_device_post_delete, sender=model, dispatch_uid=f"{uid}_{name}_delete")
    pre_save.connect(_token_pre_save, sender=ApiToken, dispatch_uid=f"{uid}_token_pre")
    post_save.connect(_token_post_save, sender=ApiToken, dispatch_uid=f"{uid}_token_post")
    post_delete.connect(_token_post_delete, sender=ApiToken, dispatch_uid=f"{uid}_token_delete")
