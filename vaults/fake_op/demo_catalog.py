"""Names the demo organisation is built from: vaults, services, people, groups, titles.

Every vault name classifies as intended under the rule in docs/findings-rules.md (checked by
`classify`, which mirrors that rule), and every normal item title matches the naming convention
`[Service] [Environment] [Type]`.
"""

from __future__ import annotations

import re

# (name, class) — the first 23 are the demo scenario users know; order mixes classes so any
# prefix still has production, non-production and shared vaults.
CURATED_VAULTS: list[tuple[str, str]] = [
    ("Payments Production", "production"),
    ("Payments Staging", "non-production"),
    ("Shared Engineering", "shared"),
    ("Platform Production", "production"),
    ("Platform Staging", "non-production"),
    ("Corporate IT", "shared"),
    ("Break Glass Production", "production"),
    ("Customer API Development", "non-production"),
    ("Private - CTO Office", "personal"),
    ("Data Warehouse Production", "production"),
    ("Data Warehouse Development", "non-production"),
    ("Corporate Finance", "shared"),
    ("Customer API Production", "production"),
    ("QA Automation", "non-production"),
    ("Shared Marketing", "shared"),
    ("Mobile Backend Production", "production"),
    ("Mobile Backend Test", "non-production"),
    ("Everyone", "shared"),
    ("Personal - Head of Security", "personal"),
    ("Sandbox Integrations", "non-production"),
    ("Vendor Portals", "unclassified"),
    ("Employee Onboarding Kits", "personal"),
    ("Legacy Migration", "unclassified"),
]

EXTRA_SERVICES = [
    "Billing",
    "Search",
    "Identity",
    "Notifications",
    "Analytics",
    "Checkout",
    "Inventory",
    "Logistics",
    "Reporting",
    "Messaging",
    "Scheduling",
    "Catalog",
    "Ledger",
    "Onboarding",
    "Fraud",
    "Pricing",
    "Media",
    "Routing",
    "Telemetry",
    "Gateway",
]
EXTRA_ENVIRONMENTS = [
    ("Production", "production"),
    ("Staging", "non-production"),
    ("Development", "non-production"),
    ("QA", "non-production"),
    ("Shared", "shared"),
]

# Environment word used in item titles, per vault class.
TITLE_ENVIRONMENT = {
    "production": ["Production"],
    "shared": ["Shared", "Corporate"],
    "personal": ["Corporate"],
    "unclassified": ["Shared", "Corporate"],
    "emergency": ["Production"],  # break-glass credentials open production systems
}
NONPROD_WORDS = [
    ("staging", "Staging"),
    ("stage", "Staging"),
    ("dev", "Development"),
    ("test", "Test"),
    ("qa", "QA"),
    ("sandbox", "Test"),
]

SERVICES = [
    ("Stripe", "stripe.com"),
    ("AWS", "aws.amazon.com"),
    ("GitHub", "github.com"),
    ("Datadog", "datadoghq.com"),
    ("PagerDuty", "pagerduty.com"),
    ("Twilio", "twilio.com"),
    ("SendGrid", "sendgrid.com"),
    ("Cloudflare", "cloudflare.com"),
    ("Okta", "okta.com"),
    ("Salesforce", "salesforce.com"),
    ("Zendesk", "zendesk.com"),
    ("Jira", "atlassian.net"),
    ("Snowflake", "snowflakecomputing.com"),
    ("Sentry", "sentry.io"),
    ("Slack", "slack.com"),
    ("Heroku", "heroku.com"),
    ("Fastly", "fastly.com"),
    ("Auth0", "auth0.com"),
    ("Segment", "segment.com"),
    ("HubSpot", "hubspot.com"),
    ("Algolia", "algolia.com"),
    ("Mailgun", "mailgun.com"),
    ("Vercel", "vercel.com"),
    ("DigitalOcean", "digitalocean.com"),
    ("Grafana", "grafana.net"),
    ("Elastic", "elastic.co"),
    ("MongoDB Atlas", "mongodb.com"),
    ("Confluent", "confluent.cloud"),
    ("Netlify", "netlify.com"),
    ("Intercom", "intercom.com"),
    ("Xero", "xero.com"),
    ("Workday", "workday.com"),
    ("Gusto", "gusto.com"),
    ("Docker Hub", "hub.docker.com"),
    ("npm", "npmjs.com"),
    ("PyPI", "pypi.org"),
    ("Google Workspace", "admin.google.com"),
    ("Azure", "portal.azure.com"),
    ("Terraform Cloud", "app.terraform.io"),
    ("CircleCI", "circleci.com"),
]

TYPE_WORDS = {
    "LOGIN": ["Admin Login", "Console Login", "Dashboard Login", "Support Login"],
    "PASSWORD": ["Root Password", "Admin Password", "Recovery Password", "Backup Password"],
    "API_CREDENTIAL": ["API Key", "API Token", "Webhook Secret", "Access Key"],
    "DATABASE": ["Postgres Database", "MySQL Database", "Redis Credentials", "Replica Database"],
    "SERVER": ["Bastion Server", "Jump Host", "Build Server", "Worker Server"],
    "SSH_KEY": ["Deploy SSH Key", "Admin SSH Key", "CI SSH Key"],
    "SECURE_NOTE": ["Runbook", "Recovery Codes", "Escalation Notes", "Setup Notes"],
}

# Category weights per vault class: production holds machine secrets, shared holds logins.
CATEGORY_WEIGHTS = {
    "production": {
        "API_CREDENTIAL": 5,
        "DATABASE": 4,
        "SERVER": 3,
        "SSH_KEY": 3,
        "LOGIN": 3,
        "PASSWORD": 1,
        "SECURE_NOTE": 2,
    },
    "non-production": {
        "API_CREDENTIAL": 4,
        "DATABASE": 3,
        "SERVER": 2,
        "SSH_KEY": 2,
        "LOGIN": 3,
        "PASSWORD": 2,
        "SECURE_NOTE": 2,
    },
    "shared": {
        "LOGIN": 6,
        "PASSWORD": 3,
        "SECURE_NOTE": 3,
        "API_CREDENTIAL": 2,
        "DATABASE": 1,
        "SERVER": 1,
        "SSH_KEY": 1,
    },
    "personal": {"LOGIN": 5, "PASSWORD": 3, "SECURE_NOTE": 2, "SSH_KEY": 1},
    "unclassified": {"LOGIN": 5, "PASSWORD": 2, "SECURE_NOTE": 2, "API_CREDENTIAL": 2},
}

GENERIC_TITLES = [
    "Password",
    "API Key",
    "Token",
    "Database",
    "Login",
    "Secret",
    "Admin",
    "Credentials",
    "Test",
    "New Item",
    "Untitled",
    "Key",
    "Server",
]
# Titles that name a thing but break the convention (no environment word between two words).
SLOPPY_TITLES = [
    "stripe key",
    "aws root acct",
    "jenkins admin",
    "mysql pw",
    "vpn creds",
    "old github token",
    "db creds (ask Tom)",
    "twilio",
    "Okta break-in",
    "do not use",
    "sendgrid backup",
    "copy of key",
    "grafana",
    "tmp password",
    "server creds 2",
    "laptop recovery",
]

FIRST_NAMES = [
    "Alice",
    "Bruno",
    "Chiara",
    "Dmitri",
    "Emeka",
    "Fatima",
    "Gustav",
    "Hana",
    "Ines",
    "Jonas",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Oscar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Ulla",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amara",
    "Bjorn",
    "Carmen",
    "Diego",
]
LAST_NAMES = [
    "Andersen",
    "Bauer",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zimmermann",
]

BUILTIN_GROUPS = [
    ("Owners", "Access to billing and account administration.", "OWNERS"),
    ("Administrators", "Administration of users, groups, and vaults.", "ADMINISTRATORS"),
    ("Recovery", "Can reset user passwords if account recovery is enabled.", "RECOVERY"),
    ("Team Members", "All team members.", "TEAM_MEMBERS"),
]
CUSTOM_GROUPS = [
    "Engineering",
    "Platform SRE",
    "Finance",
    "Customer Support",
    "Data",
    "Security",
    "Marketing",
    "Sales",
    "Mobile",
    "Legal",
]

NAMING_CONVENTION = re.compile(r"^\S.* (Production|Staging|Development|Test|QA|Shared|Corporate) \S.*$", re.I)

# Business-style permission names (op `vault user list` on a Business account).
NORMAL_PERMISSIONS = [
    "view_items",
    "create_items",
    "edit_items",
    "archive_items",
    "view_and_copy_passwords",
    "view_item_history",
]
SERVICE_ACCOUNT_PERMISSIONS = ["view_items", "create_items", "edit_items", "archive_items", "view_and_copy_passwords"]


def classify(name: str, vault_type: str = "USER_CREATED") -> str:
    """The vault classification rule of docs/findings-rules.md."""
    lowered = name.lower()
    if "prod" in lowered:
        return "production"
    if any(word in lowered for word in ("staging", "stage", "dev", "test", "qa", "sandbox")):
        return "non-production"
    if vault_type == "PERSONAL" or any(word in lowered for word in ("private", "personal", "employee")):
        return "personal"
    if any(word in lowered for word in ("shared", "corporate", "everyone")):
        return "shared"
    if any(word in lowered for word in ("break glass", "break-glass", "breakglass", "emergency")):
        return "emergency"
    return "unclassified"


def vault_names(count: int) -> list[tuple[str, str]]:
    """`count` unique vault names with their class: the curated 23 first, then Service x Environment."""
    names = list(CURATED_VAULTS[:count])
    taken = {name for name, _ in names}
    round_number = 1
    while len(names) < count:
        for service in EXTRA_SERVICES:
            for environment, klass in EXTRA_ENVIRONMENTS:
                name = f"{service} {environment}" + (f" {round_number}" if round_number > 1 else "")
                if len(names) < count and name not in taken:
                    names.append((name, klass))
                    taken.add(name)
        round_number += 1
    for name, klass in names:
        assert classify(name) == klass, (name, klass)
    return names


def title_environment(vault_name: str, klass: str) -> list[str]:
    if klass == "non-production":
        lowered = vault_name.lower()
        return [word for key, word in NONPROD_WORDS if key in lowered][:1] or ["Staging"]
    return TITLE_ENVIRONMENT[klass]
