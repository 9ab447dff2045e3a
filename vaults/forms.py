"""Forms for the inventory pages. Every GET filter goes through one of these: invalid input is a
400, never a silently ignored parameter."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from openclaw_web.keyset import CursorForm
from openclaw_web.roles import Role
from vaults.models import Account, Vault
from vaults.models.access import USER_STATE_LABELS

PAGE_SIZE = 50


class PageForm(forms.Form):
    """The `page` parameter shared by every paginated table."""

    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)

    def page_number(self) -> int:
        return self.cleaned_data.get("page") or 1


class VaultFilterForm(PageForm):
    SORTS = {
        "name": ("Name", ["name", "pk"]),
        "score": ("Score (worst first)", ["score_value", "name", "pk"]),
        "-score": ("Score (best first)", ["-score_value", "name", "pk"]),
        "-findings": ("Most open findings", ["-open_findings", "name", "pk"]),
        "-items": ("Most items", ["-active_items", "name", "pk"]),
        "account": ("Account", ["account__name", "name", "pk"]),
    }

    q = forms.CharField(required=False, max_length=200, label="Search",
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Vault name"}))
    account = forms.ModelChoiceField(queryset=Account.objects.all(), required=False, empty_label="All accounts")
    classification = forms.ChoiceField(required=False, choices=[("", "All classifications"), *Vault.Classification.choices])
    sort = forms.ChoiceField(required=False, choices=[(key, label) for key, (label, _) in SORTS.items()])

    def ordering(self) -> list[str]:
        return self.SORTS[self.cleaned_data.get("sort") or "name"][1]


class ItemFilterForm(CursorForm):
    q = forms.CharField(required=False, max_length=200, label="Search",
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title or tag"}))


class PeopleFilterForm(CursorForm):
    q = forms.CharField(required=False, max_length=200, label="Search",
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or email"}))
    account = forms.ModelChoiceField(queryset=Account.objects.all(), required=False, empty_label="All accounts")
    # Every state op prints (USER_STATE_LABELS), so a pending or transfer state can be filtered on.
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *USER_STATE_LABELS.items()])


def team_leads() -> QuerySet[Any]:
    return get_user_model().objects.filter(groups__name=Role.TEAM_LEAD.value, is_active=True).order_by("username")


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        full_name = obj.get_full_name()
        return f"{full_name} ({obj.get_username()})" if full_name else obj.get_username()


class VaultSettingsForm(forms.ModelForm):
    """What an admin decides about a vault: its classification (never overwritten by a sync
    afterwards) and the team lead who owns it."""

    owner = OwnerChoiceField(queryset=team_leads(), required=False, empty_label="No owner",
                             help_text="Team lead who receives the vault's reviews and cleanup.")

    class Meta:
        model = Vault
        fields = ["classification", "owner"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = team_leads()
