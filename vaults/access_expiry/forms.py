"""The end-date form of the person page: a date, everything or chosen vaults, and why."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from openclaw_web.text import one_line
from vaults.cleanup import scope
from vaults.models import OpUser, Vault

# A contract recorded late may have ended already (the finding then opens at once); a date more
# than five years out is a typo, not a contract.
PAST_LIMIT_DAYS = 365
FUTURE_LIMIT_DAYS = 5 * 365


class VaultChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return one_line(obj.name, 120)


class EndDateForm(forms.Form):
    SCOPES = [("all", "All of their access"), ("vaults", "Only the vaults chosen below")]

    ends_on = forms.DateField(
        label="Access ends on", widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The first day without access: for a contract whose last day is the 30th, enter the 1st.",
    )  # fmt: skip
    scope = forms.ChoiceField(choices=SCOPES, initial="all", widget=forms.RadioSelect)
    vaults = VaultChoices(queryset=Vault.objects.none(), required=False, widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(required=False, max_length=500, label="Why (contract, project)",
                             widget=forms.TextInput(attrs={"placeholder": "Contract ACME-42 ends"}))  # fmt: skip

    def __init__(self, *args: Any, person: OpUser, user: AbstractBaseUser | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any vault of the person's account that is still present (a grant expiry may be set
        # before the sync that shows the grant) and in the user's cleanup scope: the removal is
        # proposed in their name (vaults/access_expiry/sponsorship.py).
        vaults = Vault.objects.filter(account_id=person.account_id, removed_at__isnull=True).order_by("name", "pk")
        if not scope.proposes_anywhere(user):
            vaults = vaults.filter(owner_id=user.pk)
        cast(forms.ModelMultipleChoiceField, self.fields["vaults"]).queryset = vaults

    def clean_ends_on(self) -> datetime.date:
        value: datetime.date = self.cleaned_data["ends_on"]
        today = timezone.localdate()
        if value < today - datetime.timedelta(days=PAST_LIMIT_DAYS):
            raise forms.ValidationError("That is more than a year ago.")
        if value > today + datetime.timedelta(days=FUTURE_LIMIT_DAYS):
            raise forms.ValidationError("That is more than five years from now.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("scope") == "vaults" and not data.get("vaults"):
            self.add_error("vaults", "Choose at least one vault, or end all of their access.")
        return data

    def chosen_vaults(self) -> list[Vault] | None:
        return None if self.cleaned_data["scope"] == "all" else list(self.cleaned_data["vaults"])


class ReportFilterForm(forms.Form):
    """GET filter of the report page (its state is the URL)."""

    anomalies = forms.BooleanField(required=False, label="Only people with anomalies")
