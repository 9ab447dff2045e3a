"""Every input of the cleanup pages, GET filters included, goes through one of these forms."""

from __future__ import annotations

from django import forms

from vaults.findings.models import Finding
from vaults.models import Account, Vault

ACTIONABLE_KINDS = [
    Finding.Kind.DUPLICATE, Finding.Kind.UNCLEAR_NAME, Finding.Kind.OVER_PERMISSIONED, Finding.Kind.ORPHANED,
    Finding.Kind.WEAK, Finding.Kind.OVERDUE_ROTATION, Finding.Kind.ROTATION_DUE_SOON, Finding.Kind.MISSING_METADATA,
]  # fmt: skip


class ProposeForm(forms.Form):
    """`?finding=<id>` (repeatable) picks the findings; `kind` filters the picker list."""

    finding = forms.ModelMultipleChoiceField(
        queryset=Finding.objects.filter(status=Finding.Status.OPEN),
        required=False,
    )
    kind = forms.ChoiceField(
        choices=[("", "All actionable kinds"), *[(k.value, k.label) for k in ACTIONABLE_KINDS]], required=False
    )


class GenerateForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.all(), empty_label=None)
    vaults = forms.ModelMultipleChoiceField(
        queryset=Vault.objects.filter(removed_at__isnull=True),
        required=False,
        help_text="Leave empty for every vault of the account.",
    )


class DecisionForm(forms.Form):
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ActionEditForm(forms.Form):
    title = forms.CharField(required=False, max_length=1000)
    tags = forms.CharField(required=False, max_length=2000, help_text="Comma-separated")
    url = forms.CharField(required=False, max_length=1000)
    keep_item_id = forms.IntegerField(required=False, min_value=1)
    destination_vault = forms.ModelChoiceField(queryset=Vault.objects.filter(removed_at__isnull=True), required=False)
