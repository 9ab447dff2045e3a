"""The people page (/settings/people/): OpenClaw's own accounts and their roles, admins only.

Thin views over `openclaw_web.people_management`; the audit entries are written by
`openclaw_web.access_audit` whichever path changes an account.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from openclaw_web import people_management
from openclaw_web.http import signed_in_user
from openclaw_web.people_forms import ActivationForm, PersonCreateForm, RolesForm
from openclaw_web.people_management import PeopleChangeRefused
from openclaw_web.roles import Capability, requires


def _page(request: HttpRequest, *, create_form: PersonCreateForm | None = None, status: int = 200) -> HttpResponse:
    people = list(people_management.people_overview())
    rows: list[dict[str, Any]] = [
        {"person": p, "roles": [g.name for g in p.role_groups],  # type: ignore[attr-defined]  # Prefetch(to_attr=)
         "roles_form": RolesForm(initial={"roles": [g.name for g in p.role_groups]}, auto_id=f"id_p{p.pk}_%s")}  # type: ignore[attr-defined]  # Prefetch(to_attr=)
        for p in people
    ]
    context = {"nav": "people_admin", "rows": rows, "create_form": create_form or PersonCreateForm()}
    return render(request, "openclaw_web/people_admin.html", context, status=status)


def _get_person(pk: int) -> User:
    return get_object_or_404(User, pk=pk)


@requires(Capability.MANAGE_PEOPLE)
def people_admin(request: HttpRequest) -> HttpResponse:
    return _page(request)


@requires(Capability.MANAGE_PEOPLE)
@require_POST
def people_admin_create(request: HttpRequest) -> HttpResponse:
    form = PersonCreateForm(request.POST)
    if not form.is_valid():
        return _page(request, create_form=form, status=400)
    person = people_management.create_person(user=form.save(commit=False), roles=form.cleaned_data["roles"],
                                             by=signed_in_user(request))
    messages.success(request, f"Created {person.get_username()}.")
    return redirect("people_admin")


@requires(Capability.MANAGE_PEOPLE)
@require_POST
def people_admin_roles(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get_person(pk)
    form = RolesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose roles from the list.")
        return _page(request, status=400)
    try:
        added, removed = people_management.set_roles(person=person, roles=form.cleaned_data["roles"],
                                                     by=signed_in_user(request))
    except PeopleChangeRefused as exc:
        messages.error(request, str(exc))
        return redirect("people_admin")
    if added or removed:
        messages.success(request, f"Roles of {person.get_username()} saved.")
    return redirect("people_admin")


@requires(Capability.MANAGE_PEOPLE)
@require_POST
def people_admin_active(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get_person(pk)
    form = ActivationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose active or inactive.")
        return _page(request, status=400)
    try:
        changed = people_management.set_active(person=person, active=form.cleaned_data["active"],
                                               by=signed_in_user(request))
    except PeopleChangeRefused as exc:
        messages.error(request, str(exc))
        return redirect("people_admin")
    if changed:
        state = "reactivated" if person.is_active else "deactivated"
        messages.success(request, f"{person.get_username()} {state}.")
    return redirect("people_admin")
