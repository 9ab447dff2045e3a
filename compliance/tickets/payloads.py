"""The request body each tracker's create-issue API accepts, and what its answer means.

- Jira Cloud, REST v3: POST {site}/rest/api/3/issue {"fields": {"project": {"key"}, "summary",
  "description" (Atlassian Document Format), "issuetype": {"name"}, "labels"}} -> 201
  {"id", "key", "self"}; the ticket's page is {site}/browse/{key}.
- Jira Data Center / Server, REST v2: the same at /rest/api/2/issue with a plain-text description.
- Linear: POST the GraphQL endpoint {"query": ISSUE_CREATE, "variables": {"input": {"teamId",
  "title", "description" (Markdown), "priority"}}} -> {"data": {"issueCreate": {"success": true,
  "issue": {"id", "identifier", "url"}}}}, or {"errors": [{"message"}]}.
- Generic: POST the webhook {"summary", "description", "subject": {...}} -> any 2xx; "key" and
  "url" are read from a JSON answer when present.

Bodies are built as Python values and encoded once with json.dumps (compliance/tickets/http.py):
hostile text stays inside its JSON string whatever it contains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from compliance.tickets.http import PostResult
from compliance.tickets.models import TicketDestination

Kind = TicketDestination.Kind

LINEAR_ISSUE_CREATE = (
    "mutation IssueCreate($input: IssueCreateInput!) "
    "{ issueCreate(input: $input) { success issue { id identifier url } } }"
)
LINEAR_DEFAULT_URL = "https://api.linear.app/graphql"
# Linear priorities: 0 none, 1 urgent, 2 high, 3 medium, 4 low.
LINEAR_PRIORITY = {"High": 2, "Medium": 3, "Low": 4}
JIRA_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,49}-[0-9]{1,12}$")
ERROR_TEXT_MAX = 300


class TicketResponseError(Exception):
    """The tracker answered, but not with a created ticket."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class TicketRequest:
    url: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class CreatedTicket:
    key: str
    url: str


@dataclass(frozen=True)
class TicketText:
    summary: str
    description: str
    severity: str  # "High", "Medium", "Low" or ""
    link: str  # the subject's page on OpenClaw, or ""
    subject_kind: str
    subject_id: int


def endpoint(destination: TicketDestination) -> str:
    base = destination.url.rstrip("/")
    if destination.kind == Kind.JIRA:
        return f"{base}/rest/api/3/issue"
    if destination.kind == Kind.JIRA_V2:
        return f"{base}/rest/api/2/issue"
    return destination.url or LINEAR_DEFAULT_URL


def adf_document(text: str, link: str = "") -> dict[str, Any]:
    """Plain text as an Atlassian Document Format doc: a paragraph per blank-line-separated
    block, a hardBreak per line break, and the OpenClaw link as a real link mark. ADF refuses
    empty text nodes, so none is written."""
    paragraphs: list[dict[str, Any]] = []
    for block in re.split(r"\n\s*\n", text):
        content: list[dict[str, Any]] = []
        for n, line in enumerate(block.split("\n")):
            if n:
                content.append({"type": "hardBreak"})
            pieces = line.split(link) if link else [line]
            for m, piece in enumerate(pieces):
                if m:
                    content.append({"type": "text", "text": link, "marks": [{"type": "link", "attrs": {"href": link}}]})
                if piece:
                    content.append({"type": "text", "text": piece})
        if content:
            paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def build_request(destination: TicketDestination, text: TicketText) -> TicketRequest:
    if destination.kind in (Kind.JIRA, Kind.JIRA_V2):
        fields: dict[str, Any] = {
            "project": {"key": destination.project},
            "summary": text.summary,
            "description": adf_document(text.description, text.link) if destination.kind == Kind.JIRA else text.description,
            "issuetype": {"name": destination.issue_type or "Task"},
        }
        if destination.label_list:
            fields["labels"] = destination.label_list
        return TicketRequest(endpoint(destination), {"fields": fields})
    if destination.kind == Kind.LINEAR:
        issue: dict[str, Any] = {"teamId": destination.project, "title": text.summary, "description": text.description}
        if text.severity in LINEAR_PRIORITY:
            issue["priority"] = LINEAR_PRIORITY[text.severity]
        return TicketRequest(endpoint(destination), {"query": LINEAR_ISSUE_CREATE, "variables": {"input": issue}})
    return TicketRequest(endpoint(destination), {
        "summary": text.summary,
        "description": text.description,
        "severity": text.severity,
        "subject": {"kind": text.subject_kind, "id": text.subject_id, "url": text.link},
    })  # fmt: skip


def _web_url(value: Any) -> str:
    """An http(s) URL from an answer, or "" (a javascript: or data: URL is never linked)."""
    if not isinstance(value, str) or len(value) > 2000:
        return ""
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.hostname else ""


def _jira_errors(answer: Any) -> str:
    if not isinstance(answer, dict):
        return ""
    messages = [str(m) for m in answer.get("errorMessages") or [] if m]
    errors = answer.get("errors")
    if isinstance(errors, dict):
        messages += [f"{field}: {message}" for field, message in errors.items()]
    return "; ".join(messages)


def _linear_errors(answer: Any) -> str:
    if not isinstance(answer, dict) or not isinstance(answer.get("errors"), list):
        return ""
    return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in answer["errors"])


def parse_response(destination: TicketDestination, result: PostResult) -> CreatedTicket:
    """The created ticket's key and URL, or TicketResponseError saying why there is none."""
    answer = result.json()
    status = result.status
    if destination.kind in (Kind.JIRA, Kind.JIRA_V2):
        if status not in (200, 201):
            raise TicketResponseError(f"Jira refused the ticket (HTTP {status}). {_jira_errors(answer)}".strip(), status=status)
        key = answer.get("key") if isinstance(answer, dict) else None
        if not isinstance(key, str) or not JIRA_KEY.match(key):
            raise TicketResponseError(f"Jira answered HTTP {status} without an issue key.", status=status)
        return CreatedTicket(key=key, url=f"{destination.url.rstrip('/')}/browse/{key}")
    if destination.kind == Kind.LINEAR:
        errors = _linear_errors(answer)
        if status != 200 or errors:
            raise TicketResponseError(f"Linear refused the ticket (HTTP {status}). {errors}".strip(), status=status)
        created = (answer.get("data") or {}).get("issueCreate") if isinstance(answer, dict) else None
        issue = created.get("issue") if isinstance(created, dict) and created.get("success") is True else None
        url = _web_url(issue.get("url")) if isinstance(issue, dict) else ""
        if not isinstance(issue, dict) or not url:
            raise TicketResponseError("Linear answered without a created issue and its URL.", status=status)
        return CreatedTicket(key=str(issue.get("identifier") or "")[:100], url=url)
    if not 200 <= status < 300:
        raise TicketResponseError(f"The webhook refused the ticket (HTTP {status}).", status=status)
    if not isinstance(answer, dict):
        return CreatedTicket(key="", url="")
    if answer.get("url") is not None and not _web_url(answer.get("url")):
        raise TicketResponseError("The webhook answered with a URL that is not http or https.", status=status)
    return CreatedTicket(key=str(answer.get("key") or answer.get("id") or "")[:100], url=_web_url(answer.get("url")))
