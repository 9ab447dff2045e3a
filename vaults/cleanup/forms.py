"""Every input of the cleanup pages, GET filters included, goes through one of these forms."""

from __future__ import annotations

from django import forms

from vaults.findings.models import Finding
from vaults.models import Account, Vault
from vaults.op.hidden_characters import hidden_code_points
from vaults.op.url_redaction import has_credentials

ACTIONABLE_KINDS = [
    Finding.Kind.DUPLICATE, Finding.Kind.REUSED_SECRET, Finding.Kind.UNCLEAR_NAME, Finding.Kind.OVER_PERMISSIONED,
    Finding.Kind.ORPHANED,
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

    # What a person types here is what `op` will receive: text that displays differently from
    # what it holds (bidi controls, invisible characters) is refused here with a form error,
    # before it can reach the plan, the approver or the command builder (issue #14).
    def clean_title(self) -> str:
        return _without_hidden_characters(self.cleaned_data["title"], what="The title")

    def clean_tags(self) -> str:
        return _without_hidden_characters(self.cleaned_data["tags"], what="The tags")

    def clean_url(self) -> str:
        url = _without_hidden_characters(self.cleaned_data["url"], what="The URL")
        if url and has_credentials(url.strip()):
            raise forms.ValidationError(
                "The URL contains a user name, password or secret-looking parameter (token, key, signature…): "
                "remove it; credentials belong in a password field, not in a URL.",
                code="url_credentials",
            )
        return url


def _without_hidden_characters(value: str, *, what: str) -> str:
    if hidden := hidden_code_points(value):
        raise forms.ValidationError(
            "%(what)s contains hidden or right-to-left control characters (%(code_points)s): "
            "they make the text read differently from what 1Password would store. Remove them.",
            code="hidden_characters",
            params={"what": what, "code_points": ", ".join(hidden)},
        )
    return value
