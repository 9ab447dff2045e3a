"""Environment variables a person names on a page: an alert channel's signing key or address, a
ticket tracker's Authorization header. OpenClaw signs with, or sends out, the value of the variable
named, so a page must never be able to name SECRET_KEY, AUDIT_KEY, FINGERPRINT_KEY, DATABASE_URL or
a 1Password token. Each use has a prefix of its own; only names carrying it are accepted, by the
form and again where the value is read (a row written before the rule, or in the database, is
refused too).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class EnvNamePrefix:
    prefix: str  # "ALERT_"
    example: str  # a full name for the error message, "ALERT_SLACK_URL"
    purpose: str  # why only these: "only those may be sent to a tracker"

    @property
    def pattern(self) -> str:
        return rf"^{re.escape(self.prefix)}[A-Z0-9_]{{1,60}}$"

    def allows(self, name: str) -> bool:
        return re.match(self.pattern, name) is not None

    def refusal(self) -> str:
        return (
            f"Name a variable starting {self.prefix} (capitals, digits, underscores), e.g. {self.example}: "
            f"{self.purpose}."
        )

    def value(self, name: str) -> str:
        """The variable's value; "" when unset or when the name lacks the prefix."""
        return os.environ.get(name, "") if name and self.allows(name) else ""


ALERT_ENV = EnvNamePrefix("ALERT_", "ALERT_SLACK_URL", "only those may sign or address an alert")
TICKET_AUTH_ENV = EnvNamePrefix("TICKET_AUTH_", "TICKET_AUTH_JIRA", "only those may be sent to a tracker")
