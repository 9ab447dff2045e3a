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
    # Unticked means "automatic": a scope covering production vaults still gets a second approver
    # while REVIEW_SECOND_APPROVER_FOR_PRODUCTION is on (review.open_review).
    require_second_approver = forms.BooleanField(required=False, label="Require a second approver at sign-off")

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        account, vaults = data.get("account"), data.get("vaults")
        if account is not None and vaults:
            foreign = [v.name for v in vaults if v.account_id != account.pk]
            if foreign:
                # Dropping them silently would widen a one-vault review to every vault.
                self.add_error("vaults", f"Not a vault of {account.name}: {', '.join(foreign[:5])}.")
        return data


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
        choices=[("", "All entries"), ("any", "Flagged"), ("none", "Not flagged"), ("unused", "Unused in period"),
                 ("over", "Over-permissioned")],
    )  # fmt: skip
    q = forms.CharField(required=False, max_length=200, label="Search")
    group = forms.ChoiceField(required=False, choices=[("", "By vault"), ("person", "By person")], label="Group")

    def clean_reviewer(self) -> str:
        value: str = self.cleaned_data.get("reviewer") or ""
        if value and value not in (self.REVIEWER_MINE, self.REVIEWER_POOL) and not value.isdigit():
            raise forms.ValidationError("Unknown reviewer filter.")
        return value


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[(d.value, d.label) for d in AccessReviewEntry.Decision if d.value])
    # Optional here: keeping an unflagged entry needs none; the domain says when one is missing.
    justification = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    keep_permissions = forms.MultipleChoiceField(required=False, choices=[])

    def __init__(self, *args: Any, entry: AccessReviewEntry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["keep_permissions"]).choices = [(p, p) for p in entry.permissions]


class BulkForm(forms.Form):
    """Many entries at once: the ticked ones, or every entry matching the page's filter."""

    ACTIONS = [("keep", "Keep"), ("revoke", "Revoke"), ("delegate", "Delegate")]
    action = forms.ChoiceField(choices=ACTIONS)
    entries = forms.TypedMultipleChoiceField(required=False, coerce=int, choices=[])
    all_matching = forms.BooleanField(required=False)
    justification = forms.CharField(max_length=4000, required=False)
    to_user = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any integer id is acceptable here: the domain keeps only this review's entries.
        field = cast(forms.TypedMultipleChoiceField, self.fields["entries"])
        field.valid_value = lambda value: str(value).isdigit() and len(str(value)) < 12  # type: ignore[method-assign]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("all_matching") and not data.get("entries"):
            raise forms.ValidationError("Tick at least one entry, or every entry matching the filter.")
        if data.get("action") == "delegate" and not data.get("to_user"):
            raise forms.ValidationError("Choose the reviewer to hand the entries to.")
        return data


class SignOffForm(forms.Form):
    note = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
