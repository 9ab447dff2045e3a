"""Every main page on SQLite, the demo's database, in a process of its own (the suite's database
is PostgreSQL): migrate, plant a small organisation, compute findings, open each page as an
administrator. Prints one JSON line: the pages checked and those that did not answer 200.
Run by tests/openclaw_web/test_sqlite_demo.py."""

from __future__ import annotations

import json
import os

import django


def _plant() -> dict[str, int]:
    from tests.vaults.factories import (
        grant,
        make_account,
        make_item,
        make_op_group,
        make_op_user,
        make_secret,
        make_vault,
    )
    from vaults.findings.engine import compute_findings
    from vaults.models import Vault

    account = make_account(name="sqlite-demo")
    prod = make_vault(account=account, name="Payments Production", classification=Vault.Classification.PRODUCTION)
    dev = make_vault(account=account, name="Payments Development", classification=Vault.Classification.NON_PRODUCTION)
    shared = "ab" * 32
    first = make_item(vault=prod, title="Stripe Production API Key")
    make_secret(item=first, fingerprint=shared)
    copy = make_item(vault=dev, title="Password", tags=[])  # unclear, missing metadata, a duplicate
    make_secret(item=copy, fingerprint=shared)
    person = make_op_user(account=account, name="Dana Developer")
    grant(vault=prod, user=person, permissions=["view_items", "manage_vault"])
    grant(vault=dev, group=make_op_group(account=account, members=[person]))
    compute_findings(account=account)
    # Usage, one use old enough to be rolled into daily counts (the upsert SQLite must accept too).
    from tests.vaults.factories import days_ago, make_usage
    from vaults.usage_retention import summarise_old_usage

    make_usage(account=account, user=person, item=first, when=days_ago(2))
    make_usage(account=account, user=person, item=first, when=days_ago(1000))
    # A weak secret someone read lately: the generated plan's rotation lists its recent readers.
    weak = make_item(vault=prod, title="Legacy Billing DB Password", category="DATABASE")
    make_secret(item=weak, zxcvbn_score=0, length=6, strength="TERRIBLE")
    make_usage(account=account, user=person, item=weak, when=days_ago(3))
    # A break-glass use (20 days ago: recorded, not mailed): the event's queries on SQLite.
    from vaults.breakglass.track import track

    emergency = make_vault(account=account, name="Emergency Access", classification=Vault.Classification.EMERGENCY)
    root = make_item(vault=emergency, title="AWS Production Root Login", category="LOGIN")
    make_secret(item=root)
    make_usage(account=account, user=person, item=root, when=days_ago(20))
    track(account=account)
    compute_findings(account=account)
    summarise_old_usage(account=account)
    return {"account": account.pk, "vault": prod.pk, "item": first.pk, "person": person.pk}


def _person_finding_in_the_vaults_it_names(client: object, ids: dict[str, int]) -> list[list[object]]:
    """A finding about a person names two vaults in its details (SQLite has no JSON containment:
    vaults/findings/vault_scope.py reads the lists): both vaults show it, a third does not."""
    from django.urls import reverse

    from tests.vaults.factories import make_finding
    from vaults.findings.models import Finding
    from vaults.models import OpUser, Vault

    prod = Vault.objects.get(pk=ids["vault"])
    dev = Vault.objects.get(account_id=ids["account"], name="Payments Development")
    other = Vault.objects.get(account_id=ids["account"], name="Emergency Access")
    make_finding(account=prod.account, kind=Finding.Kind.OVER_PERMISSIONED, severity="medium",
                 title="Over-permissioned: SQLite Sentinel", op_user=OpUser.objects.get(pk=ids["person"]),
                 details={"vault_ids": [dev.pk, prod.pk]})  # fmt: skip
    failures: list[list[object]] = []
    for vault, expected in ((prod, True), (dev, True), (other, False)):
        for path in (reverse("vaults:detail", args=[vault.pk]), reverse("findings:list") + f"?vault={vault.pk}"):
            shown = "SQLite Sentinel" in client.get(path).content.decode()  # type: ignore[attr-defined]
            if shown != expected:
                failures.append([path, "shows" if shown else "misses", "the person finding naming two vaults"])
    return failures


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openclaw_web.settings")
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from vaults.breakglass.models import EmergencyUse
    from vaults.cleanup.models import ProposedAction
    from vaults.findings.models import Finding

    assert connection.vendor == "sqlite", connection.vendor
    call_command("migrate", verbosity=0)
    ids = _plant()
    finding = Finding.objects.filter(kind=Finding.Kind.DUPLICATE).first()
    assert finding is not None
    client = Client()
    client.force_login(User.objects.create_superuser("sqlite_admin", "a@example.com", "sqlite-demo-password-1"))
    paths = [
        reverse("dashboard"), reverse("vaults:list"), reverse("vaults:detail", args=[ids["vault"]]),
        reverse("vaults:detail", args=[ids["vault"]]) + "?q=stripe", reverse("vaults:item", args=[ids["item"]]),
        reverse("vaults:people"), reverse("vaults:person", args=[ids["person"]]), reverse("findings:list"),
        reverse("findings:list") + "?q=db+password+prod&sort=-first_seen", reverse("findings:detail", args=[finding.pk]),
        reverse("sync:status"), reverse("cleanup:list"), reverse("reviews:list"), reverse("reports:list"),
        reverse("audit:list"), reverse("usage"),
        reverse("usage") + "?classification=production&tag=team-payments&start=2020-01-01",
        reverse("usage") + "?format=xlsx&start=2020-01-01",
        reverse("search") + "?q=strpe+prod", reverse("search") + "?q=dana&type=people",
    ]  # fmt: skip
    paths += [
        reverse("reviews:inbox"), reverse("cleanup:rotation_policy"), reverse("cleanup:generate"),
        reverse("cleanup:propose_move", args=[ids["item"]]), reverse("cleanup:propose_metadata", args=[ids["item"]]),
        reverse("cleanup:propose_revoke", args=[ids["vault"]]),
        reverse("alerts:index"), reverse("alerts:rule_create"), reverse("alerts:channel_create"),
        reverse("breakglass:list"), reverse("breakglass:detail", args=[EmergencyUse.objects.get().pk]),
    ]  # fmt: skip
    # Remediation tickets (issue 16): settings, a destination, a finding with a ticket, the CSV.
    from compliance.tickets.models import TicketDestination, TicketLink

    destination = TicketDestination.objects.create(name="Jira", kind="jira", url="https://acme.atlassian.net", project="SEC")
    TicketLink.objects.create(subject_kind="finding", subject_id=finding.pk, destination=destination, external_key="SEC-1",
                              url="https://acme.atlassian.net/browse/SEC-1", response_status=201)  # fmt: skip
    paths += [reverse("tickets:settings"), reverse("tickets:destination", args=[destination.pk]),
              reverse("tickets:export_csv") + "?status=all&q=stripe"]  # fmt: skip
    # Leavers (issue 16): Dana marked as leaving; the list, the case page with its plan, the person page.
    marked = client.post(reverse("offboarding:mark_leaving", args=[ids["person"]]), {"leave_date": "2026-01-05"})
    paths += [reverse("offboarding:list"), reverse("offboarding:list") + "?status=all", marked["Location"]]
    failures = [[path, status] for path in paths if (status := client.get(path).status_code) != 200]
    failures += _person_finding_in_the_vaults_it_names(client, ids)
    # The demo's first journeys write too: SQL that only PostgreSQL knows must fail here, not there.
    generated = client.post(reverse("cleanup:generate"), {"account": ids["account"]})
    if generated.status_code != 302:
        failures.append(["POST " + reverse("cleanup:generate"), generated.status_code])
    else:
        paths.append(generated["Location"])
        if (status := client.get(generated["Location"]).status_code) != 200:
            failures.append([generated["Location"], status])
        rotation = ProposedAction.objects.filter(kind=ProposedAction.Kind.ROTATE_SECRET).first()
        readers = [p for p in (rotation.params.get("places") or []) if p["kind"] == "reader"] if rotation else []
        if not readers:
            failures.append(["the generated rotation lists no recent reader", rotation and rotation.params])
    print(json.dumps({"checked": len(paths), "failures": failures}))


if __name__ == "__main__":
    main()
