"""The contractor card, the person page and the weekly mail say what is true on the day: a week
without use is "no item use in the last 7 days", never "0 of 0 items"; uses are counted against the
items they touched; an end date that has come is not "scheduled"; a list cut to the most used
items says so."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from django.utils import timezone

from tests.smtp_inbox import Inbox, smtp_server
from tests.vaults.access_expiry.conftest import end_date
from tests.vaults.factories import grant, make_item, make_op_user, make_usage
from vaults.access_expiry import wording
from vaults.access_expiry.report import ITEMS_SHOWN

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    yield from smtp_server(settings)


def _card(html: str, name: str) -> str:
    card = html.split(name, 1)[1].split("</section>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card))


def test_usage_words_never_divide_by_nothing() -> None:
    assert wording.usage_summary(uses=0, items=0, days=7) == "no item use in the last 7 days"
    assert wording.usage_summary(uses=1, items=1, days=7) == "1 use of 1 item in the last 7 days"
    assert wording.usage_summary(uses=1200, items=3, days=7) == "1,200 uses of 3 items in the last 7 days"


def test_the_card_says_no_use_for_an_idle_contractor_and_counts_uses_over_items_for_a_busy_one(
    account, prod_vault, auditor, client_for
) -> None:
    idle = make_op_user(account=account, name="Ida Idle")
    busy = make_op_user(account=account, name="Bo Busy")
    for person in (idle, busy):
        grant(vault=prod_vault, user=person)
        end_date(person, days=20)
    first, second = make_item(vault=prod_vault, title="Deploy Key"), make_item(vault=prod_vault, title="DB Login")
    now = timezone.now()
    for hours, item in ((2, first), (3, first), (4, second)):
        make_usage(account=account, user=busy, item=item, when=now - datetime.timedelta(hours=hours))
    make_usage(account=account, user=idle, item=first, when=now - datetime.timedelta(days=9))  # before the week

    html = client_for(auditor).get("/vaults/people/contractors/").content.decode()

    assert "No item use in the last 7 days" in _card(html, "Ida Idle")
    assert "3 uses of 2 items in the last 7 days" in _card(html, "Bo Busy")
    assert not re.search(r"\b0 of 0\b", html) and "No item use" not in _card(html, "Bo Busy")


def test_a_list_cut_to_the_most_used_items_says_how_many_there_were(account, prod_vault, auditor, client_for) -> None:
    many, few = make_op_user(account=account, name="Mo Many"), make_op_user(account=account, name="Fe Few")
    now = timezone.now()
    for person, count in ((many, ITEMS_SHOWN + 2), (few, 2)):
        grant(vault=prod_vault, user=person)
        end_date(person, days=20)
        for n in range(count):
            make_usage(account=account, user=person, item=make_item(vault=prod_vault, title=f"{person.name} item {n}"),
                       when=now - datetime.timedelta(hours=1))  # fmt: skip

    html = client_for(auditor).get("/vaults/people/contractors/").content.decode()

    assert f"The {ITEMS_SHOWN} most used of {ITEMS_SHOWN + 2} items" in _card(html, "Mo Many")
    assert "most used of" not in _card(html, "Fe Few")


def test_an_end_date_that_has_come_is_not_called_scheduled(
    account, prod_vault, auditor, admin_user, client_for
) -> None:
    due = make_op_user(account=account, name="Dee Due")
    later = make_op_user(account=account, name="Lee Later")
    for person, days in ((due, 0), (later, 5)):
        grant(vault=prod_vault, user=person)
        end_date(person, days=days)  # scheduled: the daily run has not proposed the removal yet

    report = client_for(auditor).get("/vaults/people/contractors/").content.decode()
    due_page = client_for(admin_user).get(f"/vaults/people/{due.pk}/").content.decode()
    later_page = client_for(admin_user).get(f"/vaults/people/{later.pk}/").content.decode()

    assert "date reached; removal not proposed yet" in _card(report, "Dee Due")
    assert "scheduled" not in _card(report, "Dee Due").lower()
    assert "(all access; scheduled)" in _card(report, "Lee Later")
    assert "Date reached; removal not proposed yet" in due_page and ">Scheduled<" not in due_page
    assert ">Scheduled<" in later_page and "Date reached" not in later_page


def test_the_weekly_mail_says_no_use_instead_of_a_fraction_of_nothing(
    account, prod_vault, compliance_officer, smtp
) -> None:
    from vaults.access_expiry.weekly import send_weekly_report

    compliance_officer.email = "carol@example.com"
    compliance_officer.save()
    idle, busy = make_op_user(account=account, name="Ida Idle"), make_op_user(account=account, name="Bo Busy")
    for person in (idle, busy):
        grant(vault=prod_vault, user=person)
        end_date(person, days=20)
    make_usage(account=account, user=busy, item=make_item(vault=prod_vault, title="Deploy Key"))

    assert send_weekly_report(now=timezone.now() + datetime.timedelta(minutes=1)) == 1

    [(_, recipients, raw)] = smtp.messages
    body = message_from_bytes(raw).get_payload(decode=True).decode()
    lines = {line.split(" <", 1)[0]: line for line in body.splitlines() if line.startswith("- ")}
    assert recipients == ["carol@example.com"]
    assert lines["- Ida Idle"].endswith("no item use in the last 7 days") and "0 uses of 0" not in body
    assert "1 use of 1 item in the last 7 days" in lines["- Bo Busy"]
