"""Suggested titles for unclear names: what a person following the convention would have typed.

Convention (docs/findings-rules.md, "Naming convention"): `[Service] [Environment] [Type]`,
e.g. "Stripe Production API Key", "AWS Production Root Account".
1. Words: the title split on spaces, `_` and `-`; abbreviations written out (acct → Account,
   pwd → Password, db → Database, prod → Production).
2. Service: a known service at the start of the title in its own spelling (AWS, GitHub,
   PostgreSQL...); else the first word. A title with no service of its own (a generic title such
   as "Password") takes it from the primary URL's domain, else from the vault name.
3. Environment: the title's own environment word if it has one, else the vault's classification
   (production → Production, non-production → Development, shared and unclassified → Shared);
   always right after the service, so the default naming pattern matches the result.
4. Type: appended from the category ("API Key", "SSH Key", "Login"...) unless the title
   already says what kind of secret it is (key, password, account, token...).
5. Casing: known services and acronyms in their own spelling, every other word capitalised.
The lead edits the suggestion before submitting; it only has to be a sensible start.
"""

from __future__ import annotations

import re

from vaults.findings.copies import COPY_WORDS, url_host
from vaults.models import Item, Vault

ENVIRONMENT_OF_VAULT: dict[str, str] = {
    Vault.Classification.PRODUCTION: "Production",
    Vault.Classification.NON_PRODUCTION: "Development",
    Vault.Classification.SHARED: "Shared",
    Vault.Classification.PERSONAL: "Shared",
    Vault.Classification.UNCLASSIFIED: "Shared",
}
# Environment words as people write them -> the convention's word.
ENVIRONMENT_WORDS: dict[str, str] = {
    "production": "Production", "prod": "Production", "prd": "Production", "live": "Production",
    "staging": "Staging", "stage": "Staging", "stg": "Staging",
    "development": "Development", "dev": "Development",
    "test": "Test", "testing": "Test", "qa": "QA", "uat": "QA",
    "shared": "Shared", "corporate": "Corporate", "corp": "Corporate",
}  # fmt: skip
ABBREVIATIONS: dict[str, str] = {
    "acct": "Account", "acc": "Account", "pw": "Password", "pwd": "Password", "passwd": "Password",
    "db": "Database", "creds": "Credentials", "cred": "Credential", "svc": "Service", "usr": "User",
    "cfg": "Config", "mgmt": "Management", "admin": "Admin", "tok": "Token",
}  # fmt: skip
# Services and acronyms in their owners' spelling; matched case-insensitively, longest first.
PROPER_NAMES: tuple[str, ...] = (
    "AWS", "GitHub", "GitLab", "Bitbucket", "PostgreSQL", "Postgres", "MySQL", "MongoDB", "Redis", "Stripe",
    "Datadog", "Twilio", "Sentry", "Okta", "Slack", "SendGrid", "OpenAI", "Algolia", "Cloudflare", "Azure",
    "GCP", "Google Cloud", "Docker Hub", "Jira", "Heroku", "Kubernetes", "Terraform", "PagerDuty", "New Relic",
    "npm", "PyPI", "LDAP", "SSH", "SSO", "SAML", "VPN", "TLS", "SSL", "SMTP", "S3", "EC2", "IAM", "API", "CI",
    "iOS", "macOS", "QA", "OAuth", "JWT", "DNS", "CDN", "HubSpot", "Salesforce", "Zendesk", "Mailgun",
)  # fmt: skip
_PROPER = {name.lower(): name for name in PROPER_NAMES}
_MULTI_WORD = sorted((n for n in PROPER_NAMES if " " in n), key=len, reverse=True)
TYPE_OF_CATEGORY: dict[str, str] = {
    "LOGIN": "Login", "PASSWORD": "Password", "API_CREDENTIAL": "API Key", "DATABASE": "Database",
    "SERVER": "Server", "SSH_KEY": "SSH Key", "SECURE_NOTE": "Note", "CREDIT_CARD": "Card",
    "DOCUMENT": "Document", "SOFTWARE_LICENSE": "License", "WIRELESS_ROUTER": "Wi-Fi",
}  # fmt: skip
# Words that already say what kind of secret a title holds: no type is appended after them.
TYPE_WORDS = frozenset(
    {"key", "keys", "password", "login", "token", "secret", "credential", "credentials", "account", "database",
     "server", "certificate", "cert", "note", "card", "license", "webhook", "wi-fi"}
)  # fmt: skip
GENERIC_WORDS = TYPE_WORDS | {"api", "ssh", "admin", "new", "item", "untitled", "test", "root"}
_SPLIT = re.compile(r"[\s_\-]+")
MAX_TITLE = 200


def _cased(word: str) -> str:
    lower = word.lower()
    if lower in _PROPER:
        return _PROPER[lower]
    if lower in ABBREVIATIONS:
        return ABBREVIATIONS[lower]
    if word.isupper() and len(word) <= 4:  # an acronym the person typed in capitals: keep it
        return word
    return word[:1].upper() + word[1:].lower()


def _service_from_host(host: str) -> str:
    """'dashboard.stripe.com' -> 'Stripe' (the label before the public suffix, roughly)."""
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2:
        return ""
    name = labels[-2] if len(labels[-1]) > 2 or len(labels) < 3 else labels[-3]
    return _cased(name)


def _split_service(words: list[str]) -> tuple[str, list[str]]:
    if words and words[0] in _MULTI_WORD:  # already joined by suggested_title
        return words[0], words[1:]
    joined = " ".join(words).lower()
    for name in _MULTI_WORD:
        if joined.startswith(name.lower() + " ") or joined == name.lower():
            return name, words[len(name.split()) :]
    return _cased(words[0]), words[1:]


def suggested_title(item: Item) -> str:
    """The convention's title for `item` (module docstring, steps 1-5)."""
    raw = [w for w in _SPLIT.split(item.title.strip()) if w]
    environment = ""
    words: list[str] = []
    lead, _ = _split_service(raw) if raw else ("", [])
    if " " in lead:  # a multi-word service ("New Relic") keeps words that elsewhere are noise
        words.append(lead)
        raw = raw[len(lead.split()) :]
    for word in raw:
        env = ENVIRONMENT_WORDS.get(word.lower())
        if env and not environment:
            environment = env
        elif word.lower() not in COPY_WORDS or len(raw) == 1:
            words.append(word)
    environment = environment or ENVIRONMENT_OF_VAULT.get(item.vault.classification, "Shared")
    has_own_service = any(w.lower() not in GENERIC_WORDS for w in words)
    if has_own_service:
        service, rest = _split_service(words)
    else:
        host = url_host(item.urls)
        service = _service_from_host(host) if host else ""
        if not service:
            vault_words = [w for w in _SPLIT.split(item.vault.name) if w and w.lower() not in ENVIRONMENT_WORDS]
            service = " ".join(_cased(w) for w in vault_words) or "Unnamed"
        rest = words
    rest_cased = [_cased(w) for w in rest]
    says_type = any(w.lower() in TYPE_WORDS or ABBREVIATIONS.get(w.lower(), "").lower() in TYPE_WORDS for w in rest)
    kind = "" if says_type else TYPE_OF_CATEGORY.get(item.category, item.category.replace("_", " ").title())
    parts = [service, environment, *rest_cased, kind]
    return " ".join(p for p in parts if p)[:MAX_TITLE]
