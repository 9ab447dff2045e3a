"""Who may reach each page and API route, written by hand from the product's promise (DESIGN.md
"Roles", the README's role and API sections) — not read from the views' own `@requires`, so a
view that declares the wrong capability, or a capability whose roles drift, fails the
authorization tests.

A new route must get a line here (the tests fail until it has one). Write the roles the person
using the product would expect, then make the view agree, never the other way round.
"""

from __future__ import annotations

from openclaw_web.roles import Role

ADMIN, LEAD, APPROVER, OFFICER, AUDITOR, VIEWER = (
    Role.ADMIN, Role.TEAM_LEAD, Role.APPROVER, Role.COMPLIANCE_OFFICER, Role.AUDITOR, Role.VIEWER,
)  # fmt: skip
EVERYONE = frozenset(Role)
ONLY_ADMIN = frozenset({ADMIN})
# Inventory and findings are for everyone; cleanup plans for those who propose, approve or audit
# them; reviews for those who run, decide, approve or audit them; reports and the audit log for
# compliance and audit.
CLEANUP_READERS = frozenset({ADMIN, LEAD, APPROVER, OFFICER, AUDITOR})
PROPOSERS = frozenset({ADMIN, LEAD})
APPROVERS = frozenset({ADMIN, APPROVER})  # the two-person rule's second person
REVIEW_READERS = frozenset({ADMIN, OFFICER, LEAD, APPROVER, AUDITOR})
REVIEW_MANAGERS = frozenset({ADMIN, OFFICER})
REVIEW_DECIDERS = frozenset({ADMIN, OFFICER, LEAD})
REPORT_READERS = frozenset({ADMIN, OFFICER, AUDITOR})
REPORT_MAKERS = frozenset({ADMIN, OFFICER})
FINDING_MANAGERS = frozenset({ADMIN, LEAD, OFFICER})  # accept a risk, reopen

PAGE_ACCESS: dict[str, frozenset[Role]] = {
    # inventory
    "dashboard": EVERYONE,
    "vaults:list": EVERYONE,
    "vaults:detail": EVERYONE,
    "vaults:item": EVERYONE,
    "vaults:people": EVERYONE,
    "vaults:person": EVERYONE,
    "search": EVERYONE,  # results are what the person's inventory pages show them
    "usage": EVERYONE,  # whoever sees item pages sees their uses
    "vaults:settings": ONLY_ADMIN,  # classification and owners are policy
    "sync:status": EVERYONE,
    "sync:sync_now": ONLY_ADMIN,
    "findings:list": EVERYONE,
    "findings:detail": EVERYONE,
    "findings:accept": FINDING_MANAGERS,
    "findings:reopen": FINDING_MANAGERS,
    # cleanup: team leads propose, an approver (never the proposer) decides
    "cleanup:list": CLEANUP_READERS,
    "cleanup:plan": CLEANUP_READERS,
    "cleanup:dry_run": CLEANUP_READERS,
    "cleanup:plan_progress": CLEANUP_READERS,  # the plan page's execution box, polled
    "cleanup:propose": PROPOSERS,
    "cleanup:generate": PROPOSERS,
    "cleanup:submit": PROPOSERS,
    "cleanup:action_edit": PROPOSERS,
    "cleanup:action_remove": PROPOSERS,
    "cleanup:follow_up_done": PROPOSERS,
    "cleanup:action_approve": APPROVERS,
    "cleanup:action_reject": APPROVERS,
    "cleanup:plan_approve": APPROVERS,
    "cleanup:plan_reject": APPROVERS,
    "cleanup:execute": APPROVERS,
    "cleanup:manual_done": APPROVERS,
    # guided rotation (issue 19): the executor ticks the checklist; the policy is an admin's
    "cleanup:checklist_tick": APPROVERS,
    "cleanup:rotation_policy": ONLY_ADMIN,
    # proposing from the item page, the vault page and the findings list (issue 19)
    "cleanup:propose_metadata": PROPOSERS,
    "cleanup:propose_rename": PROPOSERS,
    "cleanup:propose_move": PROPOSERS,
    "cleanup:propose_archive": PROPOSERS,
    "cleanup:propose_revoke": PROPOSERS,
    "cleanup:propose_bulk": PROPOSERS,
    # remediation tickets (issue 16): whoever acts on findings raises tickets for findings, plans
    # and leavers; where tickets go (a URL and a credential's variable) is set like reports are made
    "tickets:settings": REPORT_MAKERS,
    "tickets:destination": REPORT_MAKERS,
    "tickets:create_for_finding": FINDING_MANAGERS,
    "tickets:create_for_plan": FINDING_MANAGERS,
    "tickets:create_for_offboarding": FINDING_MANAGERS,
    "tickets:export_csv": FINDING_MANAGERS,
    # break-glass (issue 16): everyone who sees usage sees the emergency events; admins and the
    # vault's lead record a reason or propose the rotation (approved by someone else). The signed
    # reason link is public: tests/openclaw_web/test_authorization.py PUBLIC.
    "breakglass:list": EVERYONE,
    "breakglass:detail": EVERYONE,
    "breakglass:reason": PROPOSERS,
    "breakglass:rotate": PROPOSERS,
    # leavers (issue 16): cases read like cleanup plans; admins and leads mark someone as leaving,
    # create the case's actions (approved by someone else) or cancel it.
    "offboarding:list": CLEANUP_READERS,
    "offboarding:detail": CLEANUP_READERS,
    "offboarding:create_actions": PROPOSERS,
    "offboarding:cancel": PROPOSERS,
    "offboarding:mark_leaving": PROPOSERS,
    # time-limited access (issue 16): admins and leads set or clear an end date (they become its
    # sponsor, who proposes the removal someone else approves); the weekly contractor report is
    # access-review material, read by those who read reviews.
    "access_expiry:set": PROPOSERS,
    "access_expiry:clear": PROPOSERS,
    "access_expiry:report": REVIEW_READERS,
    # access reviews
    "reviews:list": REVIEW_READERS,
    "reviews:detail": REVIEW_READERS,
    "reviews:open": REVIEW_MANAGERS,
    "reviews:remind": REVIEW_MANAGERS,
    "reviews:sign_off": REVIEW_MANAGERS,
    "reviews:decide": REVIEW_DECIDERS,
    "reviews:inbox": REVIEW_DECIDERS,  # my open decisions: only people who decide have any
    "reviews:bulk": REVIEW_DECIDERS,  # keep/revoke/delegate many entries; the domain checks each one
    # The second approval of a sign-off: a compliance officer or an approver (review.py,
    # can_second_approve), never a read-only auditor or a team lead who decided entries.
    "reviews:second_approval": frozenset({ADMIN, OFFICER, APPROVER}),
    # A signed-off review's evidence: downloaded like a report, by those who read reports.
    "reviews:evidence_pdf": REPORT_READERS,
    "reviews:evidence_xlsx": REPORT_READERS,
    # reports and the audit log
    "reports:list": REPORT_READERS,
    "reports:artifact": REPORT_READERS,
    "reports:download": REPORT_READERS,
    "reports:preview": REPORT_READERS,
    "reports:generate": REPORT_MAKERS,
    "reports:schedule_create": REPORT_MAKERS,
    "reports:schedule_delete": REPORT_MAKERS,
    "audit:list": REPORT_READERS,
    "audit:export": REPORT_READERS,
    # alerts (issue 16): rules and channels decide what is sent to outside systems, so those who
    # make reports manage them; auditors read the rules and the delivery log, like the audit log.
    "alerts:index": REPORT_READERS,
    "alerts:channel_create": REPORT_MAKERS,
    "alerts:channel_edit": REPORT_MAKERS,
    "alerts:channel_delete": REPORT_MAKERS,
    "alerts:channel_test": REPORT_MAKERS,
    "alerts:rule_create": REPORT_MAKERS,
    "alerts:rule_edit": REPORT_MAKERS,
    "alerts:rule_delete": REPORT_MAKERS,
    # one's own account
    "profile": EVERYONE,
    "password_change": EVERYONE,
    "password_change_done": EVERYONE,
    "api_token_create": EVERYONE,
    "api_token_revoke": EVERYONE,
    "two_factor_setup": EVERYONE,
    "two_factor_confirm": EVERYONE,
    "two_factor_verify": EVERYONE,
    "two_factor_disable": EVERYONE,
    "two_factor_recovery_codes": EVERYONE,
    # administration of OpenClaw's own accounts
    "people_admin": ONLY_ADMIN,
    "people_admin_create": ONLY_ADMIN,
    "people_admin_roles": ONLY_ADMIN,
    "people_admin_active": ONLY_ADMIN,
    "two_factor_admin_reset": ONLY_ADMIN,
}

# The read-only API (README "JSON API"): a token acts with its owner's roles.
API_ACCESS: dict[str, frozenset[Role]] = {
    "/api/v1/accounts": EVERYONE,
    "/api/v1/accounts/{account_id}": EVERYONE,
    "/api/v1/sync-runs": EVERYONE,
    "/api/v1/sync-runs/{run_id}": EVERYONE,
    "/api/v1/vaults": EVERYONE,
    "/api/v1/vaults/{vault_id}": EVERYONE,
    "/api/v1/items": EVERYONE,
    "/api/v1/items/{item_id}": EVERYONE,
    "/api/v1/search": EVERYONE,
    "/api/v1/usage": EVERYONE,
    "/api/v1/offboarding": CLEANUP_READERS,
    "/api/v1/offboarding/{case_id}": CLEANUP_READERS,
    "/api/v1/offboarding/{case_id}/plan": CLEANUP_READERS,
    "/api/v1/findings": EVERYONE,
    "/api/v1/findings/{finding_id}": EVERYONE,
    "/api/v1/health": EVERYONE,
    "/api/v1/health/history": EVERYONE,
    "/api/v1/reviews": REVIEW_READERS,
    "/api/v1/reviews/{review_id}": REVIEW_READERS,
    "/api/v1/reviews/{review_id}/entries": REVIEW_READERS,
    "/api/v1/reports": REPORT_READERS,
    "/api/v1/reports/{report_id}": REPORT_READERS,
    "/api/v1/reports/{report_id}/download": REPORT_READERS,
}
