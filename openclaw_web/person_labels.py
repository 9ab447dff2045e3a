"""How evidence names a person of OpenClaw: "Dana Ruiz (Compliance officer)".

An auditor reads who generated, decided or signed something; a login name says little and a
role says why that person could. Full name first, the login name when no name is set.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from openclaw_web.roles import Role, roles_of

# The most telling role first when a person holds several.
_ROLE_LABELS = {Role.ADMIN: "Administrator", Role.COMPLIANCE_OFFICER: "Compliance officer", Role.APPROVER: "Approver",
                Role.TEAM_LEAD: "Team lead", Role.AUDITOR: "Auditor", Role.VIEWER: "Viewer"}


def person_name(user: AbstractBaseUser | AnonymousUser | None) -> str:
    if user is None or not user.is_authenticated:
        return ""
    full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def role_label(user: AbstractBaseUser | AnonymousUser | None) -> str:
    """'Compliance officer', 'Approver, Team lead'; '' without a role. A superuser is an administrator."""
    if user is None or not user.is_authenticated:
        return ""
    if getattr(user, "is_superuser", False):
        return "Administrator"
    held = roles_of(user)
    return ", ".join(label for role, label in _ROLE_LABELS.items() if role in held)


def name_with_role(user: AbstractBaseUser | AnonymousUser | None) -> str:
    name = person_name(user)
    role = role_label(user)
    return f"{name} ({role})" if name and role else name
