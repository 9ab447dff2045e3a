"""The usage audit's filter: one form for the page, its exports and `/api/v1/usage`, so the same
query string means the same answer everywhere, and a filtered view is a bookmarkable URL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone

from vaults.models import Account, Item, OpGroup, OpUser, Vault
from vaults.usage_audit import UsageFilter

# The item-usage actions the Events API documents (reveal, copy, fill, export, server fetch ...).
ACTIONS = {
    "reveal": "Reveal",
    "secure-copy": "Copy",
    "fill": "Fill",
    "export": "Export",
    "share": "Share",
    "enter-item-edit-mode": "Edit",
    "select-sso-provider": "SSO sign-in",
    "server-create": "Server create",
    "server-fetch": "Server fetch",
    "server-update": "Server update",
}
DEFAULT_DAYS = 30  # with no range at all: the last 30 days, on the page and in the API alike
MAX_RANGE_DAYS = 3660  # ten years: a typo such as 0202-01-01 is an error, not a scan of everything


class UsageFilterForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.all(), required=False, empty_label="All accounts")
    vault = forms.ModelChoiceField(queryset=Vault.objects.all(), required=False, empty_label="All vaults")
    classification = forms.ChoiceField(required=False, choices=[("", "Any classification"), *Vault.Classification.choices])
    item = forms.ModelChoiceField(queryset=Item.objects.select_related("vault"), required=False,
                                  widget=forms.HiddenInput)  # fmt: skip  # set by links from an item page
    title = forms.CharField(required=False, max_length=200, label="Item title",
                            widget=forms.TextInput(attrs={"type": "search", "placeholder": "part of the title"}))  # fmt: skip
    tag = forms.CharField(required=False, max_length=200)
    # Hidden, set by links (a person's page, the per-person counts): a select of a thousand people
    # is unusable and cost 130 ms of rendering on every page (bench/bench_usage.py).
    person = forms.ModelChoiceField(queryset=OpUser.objects.all(), required=False, widget=forms.HiddenInput)
    group = forms.ModelChoiceField(queryset=OpGroup.objects.order_by("name"), required=False, empty_label="Any group",
                                   help_text="Its members as of the last sync.")  # fmt: skip
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *ACTIONS.items()])
    country = forms.CharField(required=False, max_length=100)
    ip = forms.CharField(required=False, max_length=64, label="IP address",
                         validators=[RegexValidator(r"^[0-9A-Fa-f.:]+$", "Digits, dots and colons only.")],
                         help_text='An address, or a prefix ending in "." or ":".')  # fmt: skip
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    # The events table pages by keyset: the id of the last event shown (usage_audit.events_after).
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is None and end is None and not self.errors:
            start = data["start"] = timezone.now().date() - timedelta(days=DEFAULT_DAYS - 1)
        if start and end and end < start:
            raise forms.ValidationError("The range ends before it starts.")
        if start and end and (end - start).days > MAX_RANGE_DAYS:
            raise forms.ValidationError("The range is longer than ten years.")
        return data

    def after_id(self) -> int | None:
        return self.cleaned_data.get("after")

    def usage_filter(self) -> UsageFilter:
        data = self.cleaned_data
        return UsageFilter(
            account=data.get("account"),
            vault=data.get("vault"),
            item=data.get("item"),
            title=data.get("title") or "",
            tag=data.get("tag") or "",
            classification=data.get("classification") or "",
            person=data.get("person"),
            group=data.get("group"),
            action=data.get("action") or "",
            country=data.get("country") or "",
            ip=data.get("ip") or "",
            start=data.get("start"),
            end=data.get("end"),
        )
