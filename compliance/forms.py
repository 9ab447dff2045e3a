from __future__ import annotations

from typing import Any, cast

from django import forms

from compliance.audit_queries import distinct_values, target_type_label
from openclaw_web.keyset import CursorForm


def _action_choices() -> list[Any]:
    """Actions present in the log, grouped by prefix; each group starts with an "all of them" choice."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for action in distinct_values("action"):
        prefix = action.partition(".")[0]
        options = groups.setdefault(prefix, [(prefix, f"All {prefix} actions")])
        if action != prefix:
            options.append((action, action))
    return [("", "Any action"), *((prefix, options) for prefix, options in groups.items())]


def _target_type_choices() -> list[tuple[str, str]]:
    return [("", "Any target"), *((raw, target_type_label(raw)) for raw in distinct_values("target_type"))]


class AuditFilterForm(CursorForm):
    FILTERS = ("q", "action", "target_type", "actor", "since", "until")

    q = forms.CharField(required=False, max_length=200, label="Search")
    action = forms.ChoiceField(required=False)
    target_type = forms.ChoiceField(required=False, label="Target")
    actor = forms.CharField(required=False, max_length=150)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read per request: the choices are what the log holds now, not at import time.
        cast(forms.ChoiceField, self.fields["action"]).choices = _action_choices()
        cast(forms.ChoiceField, self.fields["target_type"]).choices = _target_type_choices()

    def filters(self) -> dict[str, Any]:
        """The filter without the page cursor: what `filtered_entries` and the exports take."""
        return {name: self.cleaned_data[name] for name in self.FILTERS}
