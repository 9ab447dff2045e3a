from __future__ import annotations

from tests.vaults.factories import make_item, make_secret
from tests.vaults.findings.helpers import open_findings
from vaults.findings.engine import compute_findings
from vaults.findings.models import Finding

FP = "ab" * 32


def test_one_secret_in_three_items_is_one_duplicate_listing_all_three(account, prod_vault, dev_vault) -> None:
    items = [make_item(vault=prod_vault, title=f"Stripe Production Key {n}") for n in range(2)]
    items.append(make_item(vault=dev_vault, title="Stripe Development Key"))
    for item in items:
        make_secret(item=item, fingerprint=FP)

    [finding] = open_findings(account, Finding.Kind.DUPLICATE)

    assert finding.severity == Finding.Severity.HIGH
    assert set(finding.related_items.all()) == set(items)
    assert finding.details["item_count"] == 3
    assert "Payments Production" in finding.explanation and "Payments Development" in finding.explanation
    assert FP not in finding.explanation and FP not in finding.search_text


def test_two_fields_of_one_item_sharing_a_value_are_not_a_duplicate(account, prod_vault) -> None:
    item = make_item(vault=prod_vault)
    make_secret(item=item, fingerprint=FP, label="password")
    make_secret(item=item, fingerprint=FP, label="confirm password")

    assert open_findings(account, Finding.Kind.DUPLICATE) == []


def test_archived_and_removed_items_do_not_count(account, prod_vault, now) -> None:
    make_secret(item=make_item(vault=prod_vault), fingerprint=FP)
    make_secret(item=make_item(vault=prod_vault, archived=True), fingerprint=FP)
    make_secret(item=make_item(vault=prod_vault, removed_at=now), fingerprint=FP)

    assert open_findings(account, Finding.Kind.DUPLICATE) == []


def test_a_fixed_duplicate_is_resolved_on_the_next_computation(account, prod_vault) -> None:
    first = make_item(vault=prod_vault)
    make_secret(item=first, fingerprint=FP)
    copy = make_item(vault=prod_vault)
    make_secret(item=copy, fingerprint=FP)
    [finding] = open_findings(account, Finding.Kind.DUPLICATE)

    copy.archived = True
    copy.save()
    compute_findings(account=account)

    finding.refresh_from_db()
    assert finding.status == Finding.Status.RESOLVED
    assert finding.resolved_at is not None


def test_a_group_that_grows_lists_the_new_item(account, prod_vault) -> None:
    items = [make_item(vault=prod_vault) for _ in range(2)]
    for item in items:
        make_secret(item=item, fingerprint=FP)
    [finding] = open_findings(account, Finding.Kind.DUPLICATE)

    third = make_item(vault=prod_vault)
    make_secret(item=third, fingerprint=FP)
    compute_findings(account=account)

    finding.refresh_from_db()
    assert finding.details["item_count"] == 3
    assert third in finding.related_items.all()


# --- copies of one credential versus one secret reused by different services -------------------

BUILD = [{"label": "website", "href": "https://ci.algolia.example/login", "primary": True}]
BASTION = [{"label": "website", "href": "https://bastion.aws.example", "primary": True}]


def test_the_same_secret_on_the_same_host_is_a_duplicate_not_a_reuse(account, prod_vault, dev_vault) -> None:
    first = make_item(vault=prod_vault, title="Algolia Production Build Server", urls=BUILD)
    copy = make_item(vault=dev_vault, title="algolia build (copy)", urls=BUILD)
    for item in (first, copy):
        make_secret(item=item, fingerprint=FP)

    [finding] = open_findings(account, Finding.Kind.DUPLICATE)

    assert set(finding.related_items.all()) == {first, copy}
    assert "copies of one credential" in finding.explanation
    assert open_findings(account, Finding.Kind.REUSED_SECRET) == []


def test_the_same_secret_behind_two_services_is_a_reused_secret_never_a_duplicate(account, prod_vault) -> None:
    algolia = make_item(vault=prod_vault, title="Algolia Production Build Server", urls=BUILD)
    aws = make_item(vault=prod_vault, title="AWS Production Bastion Server", urls=BASTION)
    for item in (algolia, aws):
        make_secret(item=item, fingerprint=FP)

    assert open_findings(account, Finding.Kind.DUPLICATE) == []
    [reused] = open_findings(account, Finding.Kind.REUSED_SECRET)
    assert set(reused.related_items.all()) == {algolia, aws}
    assert reused.severity == Finding.Severity.HIGH
    assert "ci.algolia.example" in reused.explanation and "bastion.aws.example" in reused.explanation
    assert "Do not archive" in reused.recommended_action
    assert FP not in reused.explanation and FP not in reused.search_text


def test_without_urls_the_title_stem_decides_which_items_are_copies(account, prod_vault, dev_vault) -> None:
    stripe = make_item(vault=prod_vault, title="Stripe Production API Key", urls=[])
    stripe_copy = make_item(vault=dev_vault, title="stripe key old", urls=[])
    twilio = make_item(vault=prod_vault, title="Twilio Production API Key", urls=[])
    for item in (stripe, stripe_copy, twilio):
        make_secret(item=item, fingerprint=FP)

    [duplicate] = open_findings(account, Finding.Kind.DUPLICATE)
    [reused] = open_findings(account, Finding.Kind.REUSED_SECRET)

    assert set(duplicate.related_items.all()) == {stripe, stripe_copy}
    assert set(reused.related_items.all()) == {stripe, stripe_copy, twilio}
    assert "other service" in duplicate.explanation


def test_same_title_stem_but_different_hosts_are_different_services(account, prod_vault) -> None:
    eu = make_item(vault=prod_vault, title="Stripe Production Key", urls=[{"href": "https://eu.stripe.example"}])
    us = make_item(vault=prod_vault, title="Stripe Production Key", urls=[{"href": "https://us.stripe.example"}])
    for item in (eu, us):
        make_secret(item=item, fingerprint=FP)

    assert open_findings(account, Finding.Kind.DUPLICATE) == []
    assert len(open_findings(account, Finding.Kind.REUSED_SECRET)) == 1


def test_title_stems_and_hosts_as_the_rule_reads_them() -> None:
    from vaults.findings.copies import same_service, title_stem, url_host

    assert title_stem("Stripe Production API Key") == "stripe"
    assert title_stem("stripe key (copy) 2") == "stripe"
    assert title_stem("AWS Production Bastion Server") == "aws bastion"
    assert title_stem("Password") == ""
    assert url_host([{"href": "https://WWW.Example.com/login", "primary": True}]) == "example.com"
    assert url_host([{"href": "ftp.example.org"}]) == "ftp.example.org"
    assert url_host("not a list") == ""
    # Two generic titles with no URL are not the same service: nothing says they are.
    assert not same_service({"title": "Password", "urls": []}, {"title": "Password", "urls": []})


ALICE, BOB = "a1" * 32, "b0" * 32  # keyed fingerprints of two sign-in names, as the sync stores them


def test_one_password_behind_two_accounts_of_one_service_is_reused_not_a_copy(account, prod_vault, dev_vault) -> None:
    github = [{"href": "https://github.example/login", "primary": True}]
    alice = make_item(vault=prod_vault, title="GitHub Production Login", category="LOGIN", urls=github,
                      username_fingerprint=ALICE)  # fmt: skip
    bob = make_item(vault=dev_vault, title="GitHub Production Login", category="LOGIN", urls=github,
                    username_fingerprint=BOB)  # fmt: skip
    for item in (alice, bob):
        make_secret(item=item, fingerprint=FP)

    # Same host, same title, same secret: everything says "copy" but the sign-in names. Archiving
    # one would lock bob out of his own account.
    assert open_findings(account, Finding.Kind.DUPLICATE) == []
    [reused] = open_findings(account, Finding.Kind.REUSED_SECRET)
    assert set(reused.related_items.all()) == {alice, bob}


def test_the_same_sign_in_name_and_title_stem_without_urls_is_a_copy(account, prod_vault, dev_vault) -> None:
    first = make_item(vault=prod_vault, title="Redis Production Password", category="LOGIN", urls=[],
                      username_fingerprint=ALICE)  # fmt: skip
    copy = make_item(vault=dev_vault, title="redis password (copy)", category="LOGIN", urls=[],
                     username_fingerprint=ALICE)  # fmt: skip
    other_account = make_item(vault=dev_vault, title="Redis Production Password", category="LOGIN", urls=[],
                              username_fingerprint=BOB)  # fmt: skip
    for item in (first, copy, other_account):
        make_secret(item=item, fingerprint=FP)

    [duplicate] = open_findings(account, Finding.Kind.DUPLICATE)
    assert set(duplicate.related_items.all()) == {first, copy}
    [reused] = open_findings(account, Finding.Kind.REUSED_SECRET)
    assert other_account in set(reused.related_items.all())


def test_sign_in_names_as_the_rule_reads_them() -> None:
    from vaults.findings.copies import same_service

    host = [{"href": "https://app.example"}]
    # Two names never make copies, even on one host.
    assert not same_service({"title": "App", "urls": host, "username": ALICE}, {"title": "App", "urls": host, "username": BOB})
    # One host decides when only one item names its account (a password item beside the login).
    assert same_service({"title": "App", "urls": host, "username": ALICE}, {"title": "App", "urls": host, "username": ""})
    # Without hosts, the title stem needs the same name on both (or none on either).
    assert same_service({"title": "Jira admin", "urls": [], "username": ALICE}, {"title": "jira admin old", "urls": [], "username": ALICE})
    assert same_service({"title": "Jira admin", "urls": [], "username": ""}, {"title": "jira admin old", "urls": [], "username": ""})
    assert not same_service({"title": "Jira admin", "urls": [], "username": ALICE}, {"title": "jira admin old", "urls": [], "username": ""})
