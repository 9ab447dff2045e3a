from __future__ import annotations

from typing import Any, cast

from django import forms

from compliance.reviews.models import AccessReviewEntry
from compliance.reviews.periods import Period, PeriodError, parse_period
from vaults.models import Account, Vault


class PeriodField(forms.CharField):
    def clean(self, value: Any) -> Period:
        text = super().clean(value)
        try:
            return parse_period(text)
        except PeriodError as error:
            raise forms.ValidationError(str(error)) from error


class OpenReviewForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.order_by("name"))
    period = PeriodField(max_length=20, help_text="A quarter such as 2026Q1.")
    title = forms.CharField(max_length=300, required=False)
    vaults = forms.ModelMultipleChoiceField(
        queryset=Vault.objects.filter(removed_at__isnull=True).order_by("name"), required=False,
        help_text="Leave empty (and no classification) for every vault.",
    )
    classifications = forms.MultipleChoiceField(choices=Vault.Classification.choices, required=False)
    require_second_approver = forms.BooleanField(required=False, label="Require a second approver at sign-off")


class EntryFilterForm(forms.Form):
    REVIEWER_MINE, REVIEWER_POOL = "mine", "pool"
    reviewer = forms.CharField(required=False, max_length=20)
    state = forms.ChoiceField(
        required=False,
        choices=[("", "Any decision"), ("undecided", "Undecided"), ("decided", "Decided"),
                 *[(d.value, d.label) for d in AccessReviewEntry.Decision if d.value]],
    )  # fmt: skip
    flagged = forms.ChoiceField(
        required=False,
        choices=[("", "All entries"), ("any", "Flagged"), ("unused", "Unused in period"), ("over", "Over-permissioned")],
    )
    q = forms.CharField(required=False, max_length=200, label="Search")

    def clean_reviewer(self) -> str:
        value: str = self.cleaned_data.get("reviewer") or ""
        if value and value not in (self.REVIEWER_MINE, self.REVIEWER_POOL) and not value.isdigit():
            raise forms.ValidationError("Unknown reviewer filter.")
        return value


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[(d.value, d.label) for d in AccessReviewEntry.Decision if d.value])
    justification = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    keep_permissions = forms.MultipleChoiceField(required=False, choices=[])

    def __init__(self, *args: Any, entry: AccessReviewEntry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["keep_permissions"]).choices = [(p, p) for p in entry.permissions]


class SignOffForm(forms.Form):
    note = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
