"""Events API rows keep what the feed says: countries whole (codes and full names, top-level in the
older shape), aware timestamps, actor/object names and the session's login time."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.op_samples import sample_json
from tests.vaults.factories import make_account
from vaults.events import FEEDS, sync_events
from vaults.models import Account, AuditEvent, ItemUsage, SignInAttempt

pytestmark = pytest.mark.django_db


def elastic_events(name: str) -> list[dict[str, Any]]:
    """The elastic-pipeline samples wrap each Events API object as a JSON string in `message`."""
    return [json.loads(e["message"]) for e in sample_json(name)["events"]]


def store(account: Account, feed: str, raw: dict[str, Any]) -> Any:
    """Build and save one row with every RuntimeWarning an error (naive datetimes warn)."""
    model, build = FEEDS[feed]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        row = build(account, raw)
        row.save()
    return model.objects.get(pk=row.pk)


def test_the_older_sign_in_shape_keeps_its_top_level_country() -> None:
    raw = elastic_events("events-api_signinattempts_elastic-pipeline-test.json")[0]
    assert "location" not in raw  # the shape under test

    row = store(make_account(), "signinattempts", raw)

    assert row.country == "AR"
    assert row.user_name == "Name"
    assert row.timestamp == datetime(2021, 8, 11, 14, 28, 3, tzinfo=UTC)


def test_the_v2_sign_in_shape_prefers_location_country() -> None:
    raw = sample_json("events-api_signinattempts_v2_docs-example.json")["items"][0]

    row = store(make_account(), "signinattempts", raw)

    assert row.country == "CA"  # location.country; the top-level "France" is the older field


@pytest.mark.parametrize("country", ["Canada", "United Kingdom of Great Britain and Northern Ireland", "DE"])
def test_country_names_are_kept_whole(country: str) -> None:
    raw = sample_json("events-api_signinattempts_v2_docs-example.json")["items"][0]
    raw = {**raw, "uuid": f"U{len(country)}", "location": {**raw["location"], "country": country}}

    assert store(make_account(), "signinattempts", raw).country == country


def test_an_item_usage_with_a_full_country_name_keeps_it() -> None:
    raw = elastic_events("events-api_itemusages_elastic-pipeline-test.json")[0]

    row = store(make_account(), "itemusages", raw)

    assert row.country == "Canada"


def test_an_item_usage_without_any_location_stores_no_country() -> None:
    raw = elastic_events("events-api_itemusages_elastic-pipeline-test.json")[1]
    assert "location" not in raw and "country" not in raw

    assert store(make_account(), "itemusages", raw).country == ""


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("2021-08-11T14:28:03", datetime(2021, 8, 11, 14, 28, 3, tzinfo=UTC)),  # no offset: UTC
        ("2020-06-11T16:32:50-03:00", datetime(2020, 6, 11, 19, 32, 50, tzinfo=UTC)),  # decoy: offset kept
        ("2022-10-24T21:16:52.827288935Z", datetime(2022, 10, 24, 21, 16, 52, 827288, tzinfo=UTC)),
    ],
)
def test_timestamps_are_stored_aware_without_a_naive_datetime_warning(printed: str, expected: datetime) -> None:
    raw = elastic_events("events-api_signinattempts_elastic-pipeline-test.json")[0]

    row = store(make_account(), "signinattempts", {**raw, "timestamp": printed})

    assert row.timestamp == expected


def test_a_naive_timestamp_would_have_warned_so_the_check_above_can_fail() -> None:
    """Decoy for the check itself: saving a naive datetime does raise under the same filter."""
    account = make_account()
    naive = SignInAttempt(account=account, uuid="n", timestamp=datetime(2021, 8, 11, 14, 28, 3), category="success")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning, match="naive datetime"):
            naive.save()


def test_audit_events_keep_actor_and_object_names_and_the_session_login_time() -> None:
    raw = sample_json("events-api_auditevents_v2_docs-example.json")["items"][0]

    row = store(make_account(), "auditevents", raw)

    assert (row.actor_name, row.actor_email) == ("Jack O'Neill", "jsmith@example.com")
    assert (row.object_name, row.object_email) == ("Jack O'Neill", "jsmith@example.com")
    assert row.session_login_time == datetime(2020, 6, 11, 19, 32, 50, tzinfo=UTC)


def test_an_audit_event_of_the_elastic_sample_keeps_a_nanosecond_login_time() -> None:
    raw = elastic_events("events-api_auditevents_elastic-pipeline-test.json")[0]

    row = store(make_account(), "auditevents", raw)

    assert row.actor_name == "Test Actor"
    assert row.object_name == ""  # decoy: this sample has no object_details
    assert row.session_login_time == datetime(2022, 10, 24, 21, 7, 34, 703106, tzinfo=UTC)


def test_an_unreadable_login_time_is_left_empty_and_the_event_is_stored() -> None:
    raw = sample_json("events-api_auditevents_v2_docs-example.json")["items"][0]
    raw = {**raw, "session": {**raw["session"], "login_time": "yesterday-ish"}}

    assert store(make_account(), "auditevents", raw).session_login_time is None


def test_a_sync_of_the_fake_feeds_stores_older_shape_countries_whole(fake_org: Any) -> None:
    account = fake_org.add_account()
    served = fake_org.data["events"]["signinattempts"]
    older = [e for e in served if e.get("older_shape")]
    assert older, "the fake serves no sign-in in the older shape"

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        summary = sync_events(account=account)

    assert summary is not None and summary.signin_attempts == len(served)
    stored = dict(SignInAttempt.objects.values_list("uuid", "country"))
    assert {stored[e["uuid"]] for e in older} <= {
        "Germany", "Netherlands", "United Kingdom of Great Britain and Northern Ireland", "United States of America",
    }
    assert all(stored[e["uuid"]] == e["country"] for e in older)
    assert "" not in stored.values()
    assert not AuditEvent.objects.filter(actor_name="").exists()
    assert not AuditEvent.objects.filter(session_login_time=None).exists()
    assert ItemUsage.objects.exclude(country="").exists()
