"""Who may act, asked in one place (openclaw_web/roles.active_people_with): the breakglass
contacts, the access-expiry fallback recipients, the cleanup approvers and the review pickers all
get the same answer."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from compliance.reviews.delegation import eligible_reviewers
from openclaw_web.roles import Role, active_administrators, active_people_with
from vaults.access_expiry import notices
from vaults.breakglass.notify import security_contacts

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user) -> dict[str, User]:
    made = {
        "admin": make_user("ada", Role.ADMIN, Role.APPROVER),  # two groups: listed once
        "root": User.objects.create_superuser("root", password="correct horse battery staple 9"),
        # Decoys: an admin who left, a superuser who left, and roles that are not admin.
        "gone": make_user("gone_admin", Role.ADMIN),
        "approver": make_user("apu", Role.APPROVER),
        "lead": make_user("tom", Role.TEAM_LEAD),
    }
    User.objects.filter(username="gone_admin").update(is_active=False)
    User.objects.create_superuser("old_root", password="correct horse battery staple 9", is_active=False)
    for user in made.values():
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@example.com")
    return made


def test_active_administrators_are_admins_and_superusers_still_active(people) -> None:
    assert [u.username for u in active_administrators()] == ["ada", "root"]
    assert [u.username for u in notices.admins()] == ["ada", "root"]
    assert security_contacts() == ["ada@example.com", "root@example.com"]


def test_any_of_several_roles_matches_each_person_once(people) -> None:
    assert [u.username for u in active_people_with([Role.APPROVER, Role.ADMIN])] == ["ada", "apu", "root"]
    assert {u.username for u in eligible_reviewers()} == {"ada", "root", "tom"}
