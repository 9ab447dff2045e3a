from __future__ import annotations

import datetime

import pytest

from tests.vaults.offboarding.world import at, build_world
from vaults.offboarding.plan import build_plan

pytestmark = pytest.mark.django_db


def _window(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    return at(90, now), now


def test_plan_lists_used_and_copyable_secrets_production_first_then_by_touch() -> None:
    w = build_world()
    plan = build_plan(w.lena, since=at(90, w.now), until=w.now)
    day = lambda days: f"{at(days, w.now):%Y-%m-%d}"  # noqa: E731
    assert [(line.vault_name, line.title, line.reason) for line in plan.lines] == [
        ("Payments Prod", "Stripe Live Key", f"The person revealed 2 times, filled 1 time, last on {day(10)}."),
        ("Payments Prod", "Adyen Key", f"The person filled 3 times, last on {day(60)}."),
        ("Payments Prod", "Prod DB",
         "Not used in the window, but the person could copy it: View and copy passwords through direct grant."),
        ("Dev Tools", "CI Token", f"The person exported 1 time, last on {day(3)}."),
        ("Marketing", "Twitter", f"The person copied 1 time, last on {day(2)}."),
        ("Dev Tools", "Staging DB",
         "Not used in the window, but the person could copy it: View and copy passwords through group “Engineering”."),
    ]
    assert [line.uses for line in plan.lines[:2]] == [(("reveal", 2), ("fill", 1)), (("fill", 3),)]
    assert plan.lines[1].last_used is not None and plan.lines[1].last_used.date() == at(60, w.now).date()


def test_plan_lists_direct_grants_then_live_group_memberships_as_removals() -> None:
    w = build_world()
    plan = build_plan(w.lena, since=at(90, w.now), until=w.now)
    assert [(r.kind, r.name, r.reason) for r in plan.removals] == [
        ("direct_grant", "Marketing", "Direct access to “Marketing”: View items."),
        ("direct_grant", "Payments Prod", "Direct access to “Payments Prod”: View items, View and copy passwords."),
        ("group_membership", "Engineering", "Member of group “Engineering”, which gives access to “Dev Tools”."),
    ]


def test_a_shorter_window_leaves_older_use_out() -> None:
    w = build_world()
    plan = build_plan(w.lena, since=at(30, w.now), until=w.now)
    titles = [line.title for line in plan.lines]
    assert "Adyen Key" in titles  # still copyable through the direct grant ...
    adyen = next(line for line in plan.lines if line.title == "Adyen Key")
    assert adyen.uses == () and adyen.reason.startswith("Not used in the window")  # ... but its use is outside


def test_plan_for_some_vaults_only_covers_them() -> None:
    w = build_world()
    plan = build_plan(w.lena, since=at(90, w.now), until=w.now, vaults=[w.dev])
    assert [line.title for line in plan.lines] == ["CI Token", "Staging DB"]
    assert [(r.kind, r.name) for r in plan.removals] == [("group_membership", "Engineering")]


def test_plan_json_names_vault_reason_and_last_use_and_no_fingerprint() -> None:
    w = build_world()
    data = build_plan(w.lena, since=at(90, w.now), until=w.now).as_dict()
    first = data["items"][0]
    assert first["title"] == "Stripe Live Key" and first["vault"] == "Payments Prod" and first["production"] is True
    assert first["last_use"] == at(10, w.now).isoformat()
    assert data["removals"][2] == {"kind": "group_membership", "group": "Engineering", "id": data["removals"][2]["id"],
                                   "permissions": [], "reason": "Member of group “Engineering”, which gives access to “Dev Tools”."}
    text = str(data)
    from vaults.models import SecretField

    for fingerprint in SecretField.objects.values_list("fingerprint", flat=True):
        assert fingerprint not in text
