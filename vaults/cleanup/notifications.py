"""E-mails that tell people about cleanup work: approvers when a plan is submitted, the proposer
when it is decided and when its execution finishes.

1. The domain function that changes the state calls `plan_submitted` / `plan_decided` /
   `plan_executed`; the mail goes out after the transaction commits (`transaction.on_commit`),
   so nobody is told about a change that rolled back.
2. Each (event key, recipient) is sent once (`NotificationSent`, unique): a double submit or a
   retried task sends nothing more.
3. People without an e-mail address are skipped and the skip is audit-logged, like every send.
Mails carry metadata only: plan title, vault names, counts and a link; never a secret value or
a fingerprint.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from compliance import audit
from openclaw_web.roles import MATRIX, Capability, active_people_with
from openclaw_web.site_url import absolute_url
from vaults.cleanup.models import CleanupPlan, NotificationSent, ProposedAction

logger = logging.getLogger(__name__)

Status = ProposedAction.Status
# Vault names listed in a mail before "and N more": enough to recognise the plan.
MAX_VAULT_NAMES = 5


def plan_url(plan: CleanupPlan) -> str:
    return absolute_url(reverse("cleanup:plan", args=[plan.pk]))


def approvers_of(plan: CleanupPlan) -> list[User]:
    """Active people whose role may approve cleanup, except the proposer (two-person rule)."""
    return list(active_people_with(MATRIX[Capability.APPROVE_CLEANUP]).exclude(pk=plan.proposed_by_id))


def _vault_names(plan: CleanupPlan) -> str:
    # A membership removal has no vault: it names its group instead.
    names = sorted({a.vault_name for a in plan.actions.select_related("vault", "op_group")})
    shown = ", ".join(names[:MAX_VAULT_NAMES])
    return shown + (f" and {len(names) - MAX_VAULT_NAMES} more" if len(names) > MAX_VAULT_NAMES else "")


def _who_executes(plan: CleanupPlan) -> str:
    identities = Counter(plan.actions.filter(status=Status.APPROVED).values_list("identity", flat=True))
    manual = identities.pop(ProposedAction.Identity.MANUAL, 0)
    worker = sum(identities.values())
    parts = []
    if worker:
        parts.append(f"{worker} action{'s' if worker != 1 else ''} run by the cleanup worker through 1Password's op "
                     "once an approver starts the execution")
    if manual:
        parts.append(f"{manual} manual step{'s' if manual != 1 else ''} for an administrator to run in 1Password "
                     "(the next sync verifies them)")
    return "; ".join(parts) or "nothing left to execute"


def _deliver(*, key: str, event: str, plan: CleanupPlan, recipients: Iterable[User], subject: str, body: str) -> int:
    """Send once per recipient; returns the number of mails sent now."""
    sent = 0
    for person in recipients:
        if not person.email:
            audit.record("cleanup.notification.no_address", actor_label="notifications", target=plan,
                         details={"event": event, "recipient": person.pk})  # fmt: skip
            continue
        try:
            with transaction.atomic():
                NotificationSent.objects.create(key=key, event=event, plan=plan, recipient=person,
                                                sent_at=timezone.now())  # fmt: skip
                send_mail(subject[:200], body, settings.DEFAULT_FROM_EMAIL, [person.email], fail_silently=False)
        except IntegrityError:
            continue  # already sent for this event
        audit.record("cleanup.notification.sent", actor_label="notifications", target=plan,
                     details={"event": event, "recipient": person.pk, "key": key})  # fmt: skip
        sent += 1
    return sent


def _after_commit(**mail: object) -> None:
    transaction.on_commit(lambda: _deliver(**mail))  # type: ignore[arg-type]  # the keywords of _deliver


def _footer(plan: CleanupPlan) -> str:
    return f"\n\nOpen the plan: {plan_url(plan)}\n\nThis message contains no vault contents and no secret values."


def plan_submitted(plan: CleanupPlan) -> None:
    """Tell every possible approver (never the proposer) that the plan waits for them."""
    count = plan.actions.count()
    proposer = plan.proposed_by.get_full_name() or plan.proposed_by.get_username()
    body = (
        f"{proposer} submitted the cleanup plan “{plan.title}” for approval: {count} action"
        f"{'s' if count != 1 else ''} on {_vault_names(plan)}. You may approve or reject it; the proposer cannot."
        + _footer(plan)
    )
    _after_commit(key=f"plan.submitted:{plan.pk}", event="plan.submitted", plan=plan, recipients=approvers_of(plan),
                  subject=f"[OpenClaw] Cleanup plan waiting for your approval: {plan.title}", body=body)  # fmt: skip


def plan_decided(plan: CleanupPlan) -> None:
    """Tell the proposer once no action awaits approval any more: approved (and who executes it)
    or rejected. A plan still awaiting approvals, or a draft, sends nothing."""
    if plan.status == CleanupPlan.Status.APPROVED:
        event, what = "plan.approved", f"was approved. Who executes it: {_who_executes(plan)}."
    elif plan.status == CleanupPlan.Status.REJECTED:
        event, what = "plan.rejected", "was rejected: nothing will be executed."
    else:
        return
    body = f"Your cleanup plan “{plan.title}” ({_vault_names(plan)}) {what}" + _footer(plan)
    _after_commit(key=f"{event}:{plan.pk}", event=event, plan=plan, recipients=[plan.proposed_by],
                  subject=f"[OpenClaw] Cleanup plan {event.split('.')[1]}: {plan.title}", body=body)  # fmt: skip


def plan_executed(plan: CleanupPlan, *, done: list[int], manual: list[int], failed: list[int]) -> None:
    """Tell the proposer what an execution run did. The key names the actions it settled, so a
    retried task with the same outcome sends nothing, and a later run of the rest sends again."""
    if not (done or manual or failed):
        return
    settled = ",".join(str(pk) for pk in sorted([*done, *manual, *failed]))
    digest = hashlib.sha256(settled.encode()).hexdigest()[:16]  # a long plan's ids would not fit the key
    lines = [f"{len(done)} done", f"{len(failed)} failed", f"{len(manual)} manual step{'s' if len(manual) != 1 else ''} "
             "waiting for an administrator"]  # fmt: skip
    outcome = "failed" if failed else "manual steps waiting" if manual else "done"
    body = (
        f"The execution of your cleanup plan “{plan.title}” ({_vault_names(plan)}) finished: " + ", ".join(lines) + "."
        + (" Execution stopped at the first failure; the remaining approved actions can be run again." if failed else "")
        + _footer(plan)
    )
    _after_commit(key=f"plan.executed:{plan.pk}:{digest}", event="plan.executed", plan=plan,
                  recipients=[plan.proposed_by], subject=f"[OpenClaw] Cleanup plan executed ({outcome}): {plan.title}",
                  body=body)  # fmt: skip
