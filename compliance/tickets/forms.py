"""Every input of the tickets pages goes through one of these forms."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms

from compliance.tickets import placeholders
from compliance.tickets.http import PostError, check_url
from compliance.tickets.models import TicketDestination
from openclaw_web.env_names import TICKET_AUTH_ENV
from vaults.findings.forms import FindingFilterForm

_JIRA_PROJECT = re.compile(r"^[A-Z][A-Z0-9_]{0,49}$")
_LABEL = re.compile(r"^[^\s,]{1,255}$")


class DestinationForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", label="URL",
                         help_text="Jira: the site, e.g. https://acme.atlassian.net. Linear: https://api.linear.app/graphql. "
                         "Generic: the webhook.")  # fmt: skip

    class Meta:
        model = TicketDestination
        fields = ["name", "kind", "url", "auth_env", "project", "issue_type", "labels", "summary_template",
                  "description_template", "enabled"]  # fmt: skip
        widgets = {"description_template": forms.Textarea(attrs={"rows": 6})}

    def clean_url(self) -> str:
        url = cast(str, self.cleaned_data["url"])
        try:
            check_url(url)
        except PostError as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def clean_auth_env(self) -> str:
        name = cast(str, self.cleaned_data["auth_env"]).strip()
        if name and not TICKET_AUTH_ENV.allows(name):
            raise forms.ValidationError(TICKET_AUTH_ENV.refusal())
        return name

    def _templates_checked(self, field: str) -> str:
        template = cast(str, self.cleaned_data[field])
        unknown = placeholders.unknown_placeholders(template)
        if unknown:
            known = ", ".join("{" + name + "}" for name in placeholders.PLACEHOLDERS)
            raise forms.ValidationError(f"Unknown placeholder {', '.join('{' + u + '}' for u in unknown)}; use {known}.")
        return template

    def clean_summary_template(self) -> str:
        return self._templates_checked("summary_template")

    def clean_description_template(self) -> str:
        return self._templates_checked("description_template")

    def clean_labels(self) -> str:
        labels = [label.strip() for label in cast(str, self.cleaned_data["labels"]).split(",") if label.strip()]
        if any(not _LABEL.match(label) for label in labels):
            raise forms.ValidationError("Jira labels cannot contain spaces.")
        return ", ".join(labels)

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        kind, project = data.get("kind"), (data.get("project") or "").strip()
        if kind in (TicketDestination.Kind.JIRA, TicketDestination.Kind.JIRA_V2) and not _JIRA_PROJECT.match(project):
            self.add_error("project", "A Jira project key, e.g. SEC.")
        if kind == TicketDestination.Kind.LINEAR and not project:
            self.add_error("project", "The Linear team id (Settings → Teams → copy team id).")
        data["project"] = project
        return data


class CreateTicketForm(forms.Form):
    destination = forms.ModelChoiceField(queryset=TicketDestination.objects.filter(enabled=True), empty_label=None)


class TicketExportForm(FindingFilterForm):
    """The findings page's filter, plus whose templates render the rows."""

    destination = forms.ModelChoiceField(required=False, queryset=TicketDestination.objects.filter(enabled=True),
                                         empty_label="Default templates")  # fmt: skip
