"""The evaluation organisation's leavers (synced through the real fake `op` and Events API): each
suspended member's plan lists exactly the live items they used in the window (labelled from the
planted events), none of the decoys (items only others used, in vaults the leaver cannot reach),
production first and then by how the secret was touched."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.vaults.findings.test_evaluation import evaluation_org  # noqa: F401  # the fixture
from vaults.models import OpUser
from vaults.offboarding.plan import build_plan

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_each_leavers_plan_lists_exactly_what_they_used_and_no_decoy(evaluation_org: Any) -> None:  # noqa: F811
    _path, data = evaluation_org
    labels = data["offboarding_labels"]
    assert sum(1 for label in labels if label["used_items"]) >= 5
    now = timezone.now()
    for label in labels:
        person = OpUser.objects.get(op_id=label["user_id"])
        plan = build_plan(person, since=now - timedelta(days=90), until=now)
        used = sorted(line.item_op_id for line in plan.lines if line.uses)
        assert used == label["used_items"], label["email"]
        listed = {line.item_op_id for line in plan.lines}
        assert not listed & set(label["decoy_items"]), label["email"]
        order = [(not line.production, line.touch_rank) for line in plan.lines]
        assert order == sorted(order), label["email"]
        for line in plan.lines:
            assert line.reason.startswith("The person ") if line.uses else line.reason.startswith("Not used in the window")
