"""The control catalogue: the SOC 2 Trust Services Criteria and ISO/IEC 27001:2022 Annex A controls
OpenClaw produces evidence for, each with what the control asks, how OpenClaw evidences it, and
what it cannot show (the auditor gets that elsewhere).

Why each evidence item supports its control (the points of focus / Annex A guidance it answers),
and what was left out and why, is in docs/control-mapping.md; change both together.

`evidence` names keys of the evidence lines the report builders compute
(compliance/reports/verdicts.py `evidence_lines`). The verdict rules are in `verdicts.verdict`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Control:
    framework: str
    ref: str
    title: str
    requirement: str  # what the control asks, paraphrased
    statement: str  # how the organisation meets it with OpenClaw
    evidence: tuple[str, ...]
    elsewhere: str = ""  # what the control needs that OpenClaw cannot show


SOC2 = "SOC 2 TSC (2017, points of focus rev. 2022)"
ISO27001 = "ISO/IEC 27001:2022 Annex A"
MAPPING_DOCUMENT = "docs/control-mapping.md"

SOC2_CONTROLS: tuple[Control, ...] = (
    Control(SOC2, "CC6.1", "Logical access security",
            "The entity implements logical access security software, infrastructure and architectures over "
            "protected information assets.",
            "Secrets are held in 1Password vaults classified by environment; effective access (direct and via "
            "groups) is inventoried and over-broad access flagged; sign-ins are checked for a second factor; "
            "stored system credentials are checked for strength, sharing and rotation.",
            ("access_inventory", "classification", "over_permissioned", "signins_mfa", "weak", "duplicates",
             "rotation"),
            "Network segmentation, encryption and key management of the systems the credentials open."),
    Control(SOC2, "CC6.2", "User registration and authorisation",
            "Before credentials are issued and access granted, users are registered and authorised; access is "
            "removed when no longer authorised and reviewed periodically.",
            "Every vault access granted, changed or removed in 1Password during the period is listed, each removal "
            "or reduction with whether it went through OpenClaw's approval gate (a cleanup action approved by a "
            "second person; OpenClaw never grants access, so grants are marked as made in 1Password); quarterly "
            "reviews confirm each access; suspended or deleted users who still hold access are listed. OpenClaw's "
            "own accounts are audit-logged.",
            ("access_changes", "access_reviews", "inactive_users", "openclaw_access_changes"),
            "The authorisation given before an access was granted directly in 1Password (a ticket or approval "
            "record) is not recorded by OpenClaw: sample the listed grants against the access request records."),
    Control(SOC2, "CC6.3", "Role-based access and least privilege",
            "Access is authorised, modified or removed based on roles and responsibilities, with least privilege "
            "and segregation of duties.",
            "Privileged rights (vault managers, Owners and Administrators) are listed; elevated and unused access "
            "is flagged; revocations decided in reviews run only after a second person approves them; role "
            "changes in OpenClaw itself are audit-logged.",
            ("privileged_access", "over_permissioned", "review_changes", "cleanup", "openclaw_access_changes", "offboarding"),
            "The role definitions (which job needs which vault) are the organisation's own documents."),
    Control(SOC2, "CC6.6", "Protection against threats from outside the system boundary",
            "Logical access security measures protect against threats from sources outside the system boundaries: "
            "restricted entry points, additional authentication from outside, boundary protection monitored.",
            "1Password is reached over the internet, so its sign-in is a boundary entry point: sign-ins are checked "
            "for a second factor or SSO, and attempts blocked or only reported by 1Password's firewall rules are "
            "counted.",
            ("signins_mfa", "signins_firewall"),
            "Whether firewall rules are configured, and every other entry point (VPN, network firewalls, WAF), "
            "is evidenced from those systems' configuration."),
    Control(SOC2, "CC6.7", "Restriction of information transmission and removal",
            "The transmission, movement and removal of information is restricted to authorised users and "
            "processes, and protected during it.",
            "People who can export, print or share items are inventoried; exports and shares of items in the "
            "period are counted from the Events API.",
            ("export_rights", "removal_usage"),
            "Encryption in transit, removable media and mobile device protection are evidenced elsewhere."),
    Control(SOC2, "CC7.2", "Monitoring for anomalies",
            "System components are monitored for anomalies indicative of malicious acts, natural disasters and "
            "errors; anomalies are analysed to determine whether they are security events.",
            "Item usage from the 1Password Events API is analysed for night-time use, several addresses at once "
            "and bursts; every use of a vault classified emergency (break-glass) is followed up with a reason and "
            "a rotation by its deadline; every action in OpenClaw is in a hash-chained audit log.",
            ("usage_monitoring", "anomalies", "break_glass", "audit_log"),
            "The analysis of each anomaly (incident or change record) is the organisation's own record."),
)

ISO_CONTROLS: tuple[Control, ...] = (
    Control(ISO27001, "A.5.11", "Return of assets",
            "People and other parties give back the organisation's assets they hold when their employment, "
            "contract or agreement changes or ends, and copying of information is prevented from then on.",
            "For each leaver an offboarding case lists the credentials they used or could copy and the vault "
            "access they held; it completes once a sync shows every one of those secrets rotated (approved by a "
            "second person) and no access left, within the due date.",
            ("asset_return",),
            "Physical assets, devices, authentication hardware and paper records, and the HR exit checklist."),
    Control(ISO27001, "A.5.15", "Access control",
            "Rules to control physical and logical access to information are established and implemented based "
            "on business and security requirements.",
            "Vault access follows classification (production, non-production, shared, personal); effective access "
            "is inventoried every sync and reviewed quarterly.",
            ("access_inventory", "classification", "access_reviews"),
            "The access control policy itself."),
    Control(ISO27001, "A.5.16", "Identity management",
            "The full life cycle of identities is managed.",
            "1Password users and groups are synced with their state; suspended or deleted users who still hold "
            "vault access are flagged.",
            ("access_inventory", "inactive_users"),
            "Joiner and leaver records from HR, matched against the listed users."),
    Control(ISO27001, "A.5.17", "Authentication information",
            "Allocation and management of authentication information is controlled, including advice on its "
            "appropriate handling.",
            "Stored secrets are evaluated against the policy on every sync: strength (zxcvbn), reuse (keyed "
            "fingerprints, values never stored) and rotation age.",
            ("weak", "duplicates", "rotation"),
            "How new secrets are handed over, and the guidance given to people."),
    Control(ISO27001, "A.5.18", "Access rights",
            "Access rights are provisioned, reviewed, modified and removed in accordance with policy.",
            "Access granted, changed and removed in the period is listed; rights are reviewed each quarter by vault "
            "owners; revocations become approved cleanup actions.",
            ("access_changes", "access_reviews", "review_changes", "over_permissioned", "cleanup", "offboarding"),
            "The approval given before access was granted directly in 1Password."),
    Control(ISO27001, "A.8.2", "Privileged access rights",
            "The allocation and use of privileged access rights is restricted and managed.",
            "Everyone who can manage a vault (directly or through a group) or belongs to the Owners or "
            "Administrators group is listed; those rights are in the quarterly review; every use of a break-glass "
            "credential (a vault classified emergency) is recorded with who, why and the rotation that followed.",
            ("privileged_access", "access_reviews", "break_glass"),
            "The authorisation and expiry of each privileged right."),
    Control(ISO27001, "A.8.5", "Secure authentication",
            "Secure authentication technologies and procedures are implemented, based on access restrictions and "
            "the access control policy.",
            "Successful sign-ins to 1Password are split by method from the Events API: a second factor or SSO, or "
            "the account password and Secret Key only.",
            ("signins_mfa",),
            "The enforcement setting for two-factor authentication or SSO in the 1Password admin console."),
    Control(ISO27001, "A.5.33", "Protection of records",
            "Records are protected from loss, destruction, falsification, unauthorised access and release.",
            "The OpenClaw audit log is append-only and hash-chained (chain verified when this report was "
            "generated); every report artifact is stored with its SHA-256.",
            ("audit_log", "artifacts"),
            "Backups and retention of the OpenClaw database."),
)

ALL_CONTROLS: dict[str, Control] = {c.ref: c for c in (*SOC2_CONTROLS, *ISO_CONTROLS)}


def not_applicable() -> dict[str, str]:
    """Controls the organisation has declared out of scope, with the reason, from the
    CONTROLS_NOT_APPLICABLE setting: `REF=reason` pairs separated by `;`, e.g.
    `CC6.6=1Password is reached only through the corporate VPN`. An unknown reference or a
    missing reason is a configuration error, never silently ignored."""
    declared: dict[str, str] = {}
    for part in (getattr(settings, "CONTROLS_NOT_APPLICABLE", "") or "").split(";"):
        if not part.strip():
            continue
        ref, _, reason = part.partition("=")
        ref, reason = ref.strip(), reason.strip()
        if ref not in ALL_CONTROLS or not reason:
            raise ImproperlyConfigured(f"CONTROLS_NOT_APPLICABLE: {part.strip()!r} needs a known control "
                                       f"({', '.join(ALL_CONTROLS)}) and a reason, as REF=reason")
        declared[ref] = reason
    return declared
