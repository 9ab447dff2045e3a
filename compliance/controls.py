"""The control catalogue: the SOC 2 Trust Services Criteria and ISO/IEC 27001:2022 Annex A controls
OpenClaw produces evidence for, each with what the control asks and how OpenClaw evidences it.

`evidence` names keys of the evidence lines the report builders compute
(compliance/reports/sections.py `evidence_lines`); a control is "effective" in a report when none
of its evidence lines reports an exception.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Control:
    framework: str
    ref: str
    title: str
    requirement: str  # what the control asks, paraphrased
    statement: str  # how the organisation meets it with OpenClaw
    evidence: tuple[str, ...]


SOC2 = "SOC 2 TSC (2017, rev. 2022)"
ISO27001 = "ISO/IEC 27001:2022 Annex A"

SOC2_CONTROLS: tuple[Control, ...] = (
    Control(SOC2, "CC6.1", "Logical access security",
            "The entity implements logical access security software, infrastructure and architectures over "
            "protected information assets.",
            "Secrets are held in 1Password vaults classified by environment; effective access (direct and via "
            "groups) is synced and inventoried, and over-broad access is flagged automatically.",
            ("access_inventory", "classification", "over_permissioned")),
    Control(SOC2, "CC6.2", "User registration and authorisation",
            "New users are registered and authorised before access is issued; access is removed when no longer "
            "authorised.",
            "Quarterly access reviews confirm every user-vault access with the vault owner; inactive users who "
            "still hold access are flagged. OpenClaw's own accounts are created and changed by an administrator, "
            "each change audit-logged.",
            ("access_reviews", "inactive_users", "openclaw_access_changes")),
    Control(SOC2, "CC6.3", "Role-based access and least privilege",
            "Access is authorised, modified or removed based on roles and responsibilities, with least privilege "
            "and segregation of duties.",
            "Elevated rights and unused access are flagged; revocations decided in reviews become cleanup actions "
            "that run only after a second person approves them. Role changes in OpenClaw itself are audit-logged "
            "and listed in the report.",
            ("over_permissioned", "review_changes", "cleanup", "openclaw_access_changes")),
    Control(SOC2, "CC6.6", "Protection against threats from outside the system boundary",
            "Logical access security measures protect against threats from sources outside the system boundaries.",
            "Credentials are checked for strength, reuse and rotation age; access from several addresses at once "
            "is reported.",
            ("weak", "duplicates", "rotation", "anomalies")),
    Control(SOC2, "CC6.7", "Restriction of information transmission and removal",
            "The transmission, movement and removal of information is restricted to authorised users and "
            "processes.",
            "Export rights on vaults are inventoried; OpenClaw itself never stores or exports secret values, and "
            "every exported report is recorded with its SHA-256.",
            ("export_rights", "artifacts")),
    Control(SOC2, "CC7.2", "Monitoring for anomalies",
            "System components are monitored for anomalies indicative of malicious acts, natural disasters and "
            "errors; anomalies are analysed.",
            "Item usage from the 1Password Events API is analysed for night-time use, several addresses at once "
            "and bursts; break-glass use is listed; every action in OpenClaw is in a hash-chained audit log.",
            ("usage_monitoring", "anomalies", "break_glass", "audit_log")),
)

ISO_CONTROLS: tuple[Control, ...] = (
    Control(ISO27001, "5.15", "Access control",
            "Rules to control physical and logical access to information are established and implemented based "
            "on business and security requirements.",
            "Vault access follows classification (production, non-production, shared, personal); effective access "
            "is inventoried every sync and reviewed quarterly.",
            ("access_inventory", "classification", "access_reviews")),
    Control(ISO27001, "5.16", "Identity management",
            "The full life cycle of identities is managed.",
            "1Password users and groups are synced with their state; suspended or deleted users who still hold "
            "vault access are flagged as over-permissioned.",
            ("access_inventory", "inactive_users")),
    Control(ISO27001, "5.17", "Authentication information",
            "Allocation and management of authentication information is controlled, including advice on its "
            "appropriate handling.",
            "Secret strength (zxcvbn), reuse (keyed fingerprints, values never stored) and rotation age are "
            "evaluated against the policy on every sync.",
            ("weak", "duplicates", "rotation")),
    Control(ISO27001, "5.18", "Access rights",
            "Access rights are provisioned, reviewed, modified and removed in accordance with policy.",
            "Access rights are reviewed each quarter by vault owners; revocations become approved cleanup actions.",
            ("access_reviews", "review_changes", "over_permissioned", "cleanup")),
    Control(ISO27001, "8.2", "Privileged access rights",
            "The allocation and use of privileged access rights is restricted and managed.",
            "Direct grants with manage or export rights are flagged; break-glass and night-time use is listed "
            "for review.",
            ("elevated_rights", "break_glass")),
    Control(ISO27001, "8.5", "Secure authentication",
            "Secure authentication technologies and procedures are implemented.",
            "Sign-in attempts from the Events API are monitored; weak secrets are flagged for rotation.",
            ("signins", "weak")),
    Control(ISO27001, "5.33", "Protection of records",
            "Records are protected from loss, destruction, falsification, unauthorised access and release.",
            "The OpenClaw audit log is append-only and hash-chained (chain verified when this report was "
            "generated); every report artifact is stored with its SHA-256.",
            ("audit_log", "artifacts")),
)

ALL_CONTROLS: dict[str, Control] = {c.ref: c for c in (*SOC2_CONTROLS, *ISO_CONTROLS)}
