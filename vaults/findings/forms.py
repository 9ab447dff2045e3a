"""Every input of the findings pages, GET filters included, goes through one of these forms."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.utils import timezone

from openclaw_web.keyset import CursorForm
from vaults.findings.models import Finding
from vaults.models import Vault

# Longest accepted-risk period: a risk is re-decided at least once a year (ISO 27001 A.5.1).
MAX_ACCEPT_DAYS = 366


class FindingFilterForm(CursorForm):
    """The findings list's filters and sort, and its keyset cursor (vaults/findings/keyset.py)."""

    SORTS = [
        ("severity", "Severity"),
        ("kind", "Kind"),
        ("-first_seen", "Newest first"),
        ("first_seen", "Oldest first"),
        ("title", "Title"),
    ]
    STATUSES = [("open", "Open"), ("accepted", "Accepted risk"), ("resolved", "Resolved"), ("all", "Any status")]

    q = forms.CharField(required=False, max_length=200, label="Search", widget=forms.TextInput(attrs={"type": "search", "placeholder": "e.g. db password prod"}))
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Finding.Kind.choices])
    severity = forms.ChoiceField(required=False, choices=[("", "Any severity"), *Finding.Severity.choices])
    vault = forms.ModelChoiceField(required=False, queryset=Vault.objects.none(), empty_label="Any vault")
    status = forms.ChoiceField(required=False, choices=STATUSES)
    sort = forms.ChoiceField(required=False, choices=SORTS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        vault = cast(forms.ModelChoiceField, self.fields["vault"])
        vault.queryset = Vault.objects.filter(removed_at__isnull=True).only("pk", "name").order_by("name")


class FindingSelectionForm(forms.Form):
    ids = forms.ModelMultipleChoiceField(queryset=Finding.objects.all(), error_messages={"required": "Select at least one finding."})
    next = forms.CharField(required=False, max_length=2000)


class AcceptRiskForm(FindingSelectionForm):
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    until = forms.DateField(label="Accepted until", widget=forms.DateInput(attrs={"type": "date"}))

    def clean_until(self) -> datetime.date:
        until: datetime.date = self.cleaned_data["until"]
        today = timezone.localdate()
        if until <= today:
            raise forms.ValidationError("The expiry date must be in the future.")
        if until > today + datetime.timedelta(days=MAX_ACCEPT_DAYS):
            raise forms.ValidationError("A risk can be accepted for at most one year.")
        return until
