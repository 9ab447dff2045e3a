"""Rendered fragments are reused until the data they show changes (fragment_cache.py, data_versions.py).

These run outside a test transaction (transactional_db), as production requests do: inside one,
fragments are never cached, which the last test checks. Each change a page shows has a test that
reads the page, makes the change through the path the product makes it, and reads the page
again; beside them, decoys: writes that must leave the cached copy alone.
"""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance import audit
from openclaw_web import data_versions, fragment_cache
from openclaw_web.relative_times import fill
from tests.vaults.conftest import fake_org, org_sizes  # noqa: F401 — fixtures: the fake op organisation
from tests.vaults.factories import grant, make_account, make_item, make_op_group, make_sync_run, make_vault
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding, Policy
from vaults.models import SyncRun, Vault

LIST = reverse("findings:list")


pytestmark = pytest.mark.usefixtures("redis_cache")


def _queries(client, path: str, table: str, **headers: str) -> tuple[str, int]:
    """The page (or htmx fragment) and how many of its queries read `table`."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.content.decode(), sum(f'"{table}"' in q["sql"] for q in captured.captured_queries)


def _finding_queries(client, path: str) -> tuple[str, int]:
    return _queries(client, path, "findings_finding", **{"HX-Request": "true"})


def _vault_page(client, vault: Vault) -> tuple[str, int]:
    """The vault page and how many queries read items (the summary's count and the item table)."""
    return _queries(client, reverse("vaults:detail", args=[vault.pk]), "vaults_item")


def test_a_page_is_rendered_once_while_nothing_changes(client_for, viewer, organisation) -> None:
    client = client_for(viewer)
    path = LIST + "?kind=unclear_name"

    first, first_queries = _finding_queries(client, path)
    again, again_queries = _finding_queries(client, path)

    assert first_queries >= 1 and again_queries == 0
    assert again == first and "Unclear name: Password 0" in again


def test_reads_sign_ins_sessions_and_a_running_syncs_heartbeat_leave_the_cache_alone(
    client_for, viewer, organisation
) -> None:
    account, vault = organisation
    client = client_for(viewer)
    run = make_sync_run(account=account, status=SyncRun.Status.RUNNING, started_at=timezone.now())
    _finding_queries(client, LIST)
    _vault_page(client, vault)

    # What used to empty the cache (every commit moved pg_current_snapshot()):
    audit.record("api.call", actor_label="anonymous (api)", details={"path": "/api/v1/findings/"})
    audit.record("auth.login", actor=viewer)
    audit.record("report.downloaded", actor=viewer)
    SessionStore().create()
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now(), op_calls=40, phase="items")

    assert _finding_queries(client, LIST)[1] == 0
    assert _vault_page(client, vault)[1] == 0


def test_accepting_a_risk_shows_on_the_very_next_request(client_for, team_lead, organisation) -> None:
    client = client_for(team_lead)
    path = LIST + "?kind=unclear_name"  # open findings, the list's default
    finding = Finding.objects.filter(kind=Finding.Kind.UNCLEAR_NAME).order_by("pk").first()
    link = reverse("findings:detail", args=[finding.pk])
    assert link in client.get(path).text

    response = client.post(
        reverse("findings:accept"),
        {"ids": [finding.pk], "reason": "A test vault, retired next week.",
         "until": (timezone.now() + datetime.timedelta(days=7)).date(), "next": path},
    )  # fmt: skip

    assert response.status_code == 302
    assert link not in client.get(path).text
    assert link in client.get(path + "&status=accepted").text


def test_reopening_shows_on_the_very_next_request(client_for, team_lead, organisation) -> None:
    client = client_for(team_lead)
    finding = Finding.objects.filter(kind=Finding.Kind.UNCLEAR_NAME).order_by("pk").first()
    Finding.objects.filter(pk=finding.pk).update(status=Finding.Status.ACCEPTED)  # as last week's decision left it
    accepted = LIST + "?kind=unclear_name&status=accepted"
    link = reverse("findings:detail", args=[finding.pk])
    assert link in client.get(accepted).text

    client.post(reverse("findings:reopen"), {"ids": [finding.pk], "next": accepted})

    assert link not in client.get(accepted).text


def _open_unclear_on_dashboard(client) -> int:
    body = client.get(reverse("dashboard")).text
    match = re.search(r'\?kind=unclear_name">Unclear name</a></td>\s*<td class="num"><strong>(\d+)</strong>', body)
    assert match, "the dashboard lists open findings per kind"
    return int(match.group(1))


def test_a_findings_run_shows_on_the_dashboard_and_the_vault_at_once(client_for, viewer, organisation) -> None:
    account, vault = organisation
    client = client_for(viewer)
    assert _open_unclear_on_dashboard(client) == 3 and "Untitled" not in _vault_page(client, vault)[0]
    make_item(vault=vault, title="Untitled")

    compute_findings(account=account, now=timezone.now())

    assert _open_unclear_on_dashboard(client) == 4
    assert "Untitled" in _vault_page(client, vault)[0]


def test_another_accounts_findings_run_leaves_a_vault_page_cached_but_not_the_dashboard(
    client_for, viewer, organisation
) -> None:
    _, vault = organisation
    other = make_account(name="globex")
    make_item(vault=make_vault(account=other, name="Globex Ops"), title="Untitled")
    client = client_for(viewer)
    _vault_page(client, vault)
    _queries(client, reverse("dashboard"), "findings_healthsnapshot")

    compute_findings(account=other, now=timezone.now())

    assert _vault_page(client, vault)[1] == 0  # decoy: the vault page shows acme's data only
    assert _queries(client, reverse("dashboard"), "findings_healthsnapshot")[1] >= 1


def test_a_cached_vault_page_reads_no_grants_and_still_offers_revocations_to_a_proposer(
    client_for, team_lead, viewer, organisation
) -> None:
    account, vault = organisation
    Vault.objects.filter(pk=vault.pk).update(owner=team_lead)  # a team lead proposes on the vaults they own
    grant(vault=vault, group=make_op_group(account=account, name="Payments Engineers"), permissions=["view_items"])
    lead, reader = client_for(team_lead), client_for(viewer)
    assert "Revoke group access" in lead.get(reverse("vaults:detail", args=[vault.pk])).text

    page, grant_queries = _queries(lead, reverse("vaults:detail", args=[vault.pk]), "vaults_vaultgrant")

    assert grant_queries == 0 and "Payments Engineers" in page and "Revoke group access" in page
    # Decoy: a viewer's copy of the same page has no revoke links, cached or not.
    assert "Revoke group access" not in reader.get(reverse("vaults:detail", args=[vault.pk])).text
    assert "Revoke group access" not in reader.get(reverse("vaults:detail", args=[vault.pk])).text


def test_a_vaults_new_classification_and_owner_show_on_its_page_at_once(
    client_for, admin_user, team_lead, organisation
) -> None:
    _, vault = organisation
    client = client_for(admin_user)
    assert "no owner" in _vault_page(client, vault)[0]

    client.post(reverse("vaults:settings", args=[vault.pk]),
                {"classification": Vault.Classification.SHARED, "owner": team_lead.pk})  # fmt: skip

    page = _vault_page(client, vault)[0]
    assert "no owner" not in page and "(set by a person; syncs keep it)" in page


def test_a_policy_change_shows_on_the_vault_page_at_once(client_for, viewer, organisation) -> None:
    _, vault = organisation
    client = client_for(viewer)
    policy = Policy.global_policy()
    assert f"{policy.rotation_days_production} days" in _vault_page(client, vault)[0]

    policy.rotation_days_production = 45  # as the admin site saves it
    policy.save()

    assert "45 days" in _vault_page(client, vault)[0]


def test_a_finished_sync_shows_its_items_but_a_running_one_leaves_the_cache_alone(
    client_for, viewer, organisation
) -> None:
    account, vault = organisation
    client = client_for(viewer)
    make_sync_run(account=account, finished_at=timezone.now() - datetime.timedelta(hours=1))
    run = make_sync_run(account=account, status=SyncRun.Status.RUNNING, started_at=timezone.now())
    _vault_page(client, vault)
    make_item(vault=vault, title="Imported mid-sync")  # the running sync stores an item

    assert _vault_page(client, vault)[1] == 0  # decoy: a sync's imports show when it ends

    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now())

    assert "Imported mid-sync" in _vault_page(client, vault)[0]


def test_a_real_sync_through_fake_op_shows_a_renamed_item(
    client_for, viewer, fake_org, transactional_db  # noqa: F811 — the fixture imported above
) -> None:
    from vaults import sync
    from vaults.fake_op import account as fake_account
    from vaults.models import Item

    account = fake_org.add_account()
    sync.run_sync(sync_run_id=sync.start_sync(account=account, scope=SyncRun.Scope.FULL)[0].pk)
    item = Item.objects.filter(archived=False, removed_at__isnull=True).select_related("vault").first()
    client = client_for(viewer)
    assert "Renamed by the owner" not in _vault_page(client, item.vault)[0]
    fake_account.rename_item(fake_org.path, item.op_id, "Renamed by the owner")

    sync.run_sync(sync_run_id=sync.start_sync(account=account, scope=SyncRun.Scope.ITEMS)[0].pk)

    assert "Renamed by the owner" in _vault_page(client, item.vault)[0]


def test_people_with_other_roles_get_their_own_fragment(client_for, viewer, team_lead, organisation) -> None:
    path = LIST + "?kind=unclear_name"
    assert 'name="ids"' not in client_for(viewer).get(path).text

    # Same page, same data, but a team lead may select findings to accept their risk.
    assert 'name="ids"' in client_for(team_lead).get(path).text


def test_no_fragment_holds_a_csrf_token_a_name_or_a_relative_time(client_for, admin_user, organisation, redis_cache) -> None:
    account, vault = organisation
    make_sync_run(account=account, finished_at=timezone.now())
    client = client_for(admin_user)
    for path in (reverse("dashboard"), LIST, reverse("vaults:detail", args=[vault.pk])):
        page = client.get(path).text
        assert "csrfmiddlewaretoken" in page  # the page has forms; their tokens are outside fragments
    vault_page = client.get(reverse("vaults:detail", args=[vault.pk])).text  # served from the cache now
    assert 'data-relative="ago">just now</time>' in vault_page  # the score's time, filled in after the cache
    assert 'data-relative="age">1\xa0week, 3\xa0days</time>' in vault_page  # the items' age, likewise

    stored = [cache.get(key.decode().split(":", 2)[-1]) for key in redis_cache.keys("*fragment:*") if b":last" not in key]

    assert len(stored) >= 5  # dashboard, findings filters + table, vault summary + contents
    assert all("csrfmiddlewaretoken" not in html and admin_user.get_username() not in html for html in stored)
    relative_text = re.compile(r">[^<]*(\bago\b|just now|minutes?\b)[^<]*<")  # text, not the data-relative attribute
    assert not any(relative_text.search(html) for html in stored)


def test_relative_times_are_written_for_the_moment_of_serving() -> None:
    html = '<p><time datetime="2026-01-01T10:00:00+00:00" data-relative="ago">2026-01-01 10:00</time> · ' \
           '<time datetime="2025-10-01T10:00:00+00:00" data-relative="age">2025-10-01</time> · ' \
           '<time datetime="2026-01-01T10:00:00+00:00">kept</time></p>'  # fmt: skip
    now = datetime.datetime(2026, 1, 1, 10, 3, 30, tzinfo=datetime.UTC)

    filled = fill(html, now=now)

    assert ">3\xa0minutes ago</time>" in filled
    assert ">3\xa0months</time>" in filled
    assert ">kept</time>" in filled  # decoy: a <time> without data-relative is left as written
    assert ">just now</time>" in fill(html, now=now - datetime.timedelta(minutes=3))


def _request(user):
    request = RequestFactory().get(LIST)
    request.user = user
    return request


def test_concurrent_misses_render_once(viewer, organisation) -> None:
    renders: list[int] = []
    started = threading.Barrier(3)

    def render() -> str:
        renders.append(1)
        threading.Event().wait(0.5)  # a slow render: the others arrive while it runs
        return "<p>rendered</p>"

    results: list[str] = []

    def serve() -> None:
        started.wait()
        try:
            results.append(str(fragment_cache.cached_fragment(_request(viewer), "t", render)))
        finally:
            connection.close()

    threads = [threading.Thread(target=serve) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(renders) == 1 and results == ["<p>rendered</p>"] * 3


def test_while_one_renders_others_get_the_last_copy_unless_a_person_changed_something(
    viewer, organisation, monkeypatch
) -> None:
    account, _ = organisation
    monkeypatch.setattr(fragment_cache, "WAIT_SECONDS", 0.2)
    fragment_cache.cached_fragment(_request(viewer), "t", lambda: "<p>before the findings run</p>")
    compute_findings(account=account, now=timezone.now())  # sync/findings data moved: a new key
    versions = data_versions.read()
    key = f"{fragment_cache.fragment_key(_request(viewer), 't')}:{versions.key()}"
    cache.add(f"{key}:lock", 1, 30)  # someone else is rendering it

    served = fragment_cache.cached_fragment(_request(viewer), "t", lambda: "<p>rendered again</p>")
    assert served == "<p>before the findings run</p>"  # the last copy, not a second render

    audit.record("finding.risk_accepted", actor=viewer)  # a person's change: never hidden
    cache.add(f"{fragment_cache.fragment_key(_request(viewer), 't')}:{data_versions.read().key()}:lock", 1, 30)
    served = fragment_cache.cached_fragment(_request(viewer), "t", lambda: "<p>with their change</p>")
    assert served == "<p>with their change</p>"


def test_a_render_that_fails_raises_and_is_not_taken_for_a_cache_outage(viewer, organisation, caplog) -> None:
    calls: list[int] = []

    def broken() -> str:
        calls.append(1)
        raise ValueError("template bug")

    with pytest.raises(ValueError, match="template bug"):
        fragment_cache.cached_fragment(_request(viewer), "t", broken)
    assert calls == [1] and "fragment cache unavailable" not in caplog.text


def test_pages_still_answer_when_the_cache_does_not(client_for, viewer, organisation, settings, caplog) -> None:
    _, vault = organisation
    # Nothing listens on port 1: every cache call fails at once.
    settings.CACHES = {"default": {"BACKEND": "openclaw_web.cache_backend.ReusedClientRedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    client = client_for(viewer)

    for path in (reverse("dashboard"), LIST, reverse("vaults:detail", args=[vault.pk])):
        response = client.get(path)
        assert response.status_code == 200 and "Payments Production" in response.text

    assert "fragment cache unavailable" in caplog.text


def test_which_audited_actions_move_the_people_version() -> None:
    assert data_versions.changes_data("vault.settings_changed")
    assert data_versions.changes_data("finding.risk_accepted")
    assert data_versions.changes_data("cleanup.action.succeeded")
    assert data_versions.changes_data("ticket.created")
    for read in ("api.call", "api.throttled", "auth.login", "report.downloaded", "audit_log.exported", "sync.started"):
        assert not data_versions.changes_data(read), read


def test_fragments_are_never_cached_inside_a_transaction(transactional_db) -> None:
    assert data_versions.read() is not None
    with transaction.atomic():
        assert data_versions.read() is None
