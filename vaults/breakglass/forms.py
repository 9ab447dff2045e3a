"""Input of the break-glass pages: the list's filter and the reason."""

from __future__ import annotations

from django import forms

from vaults.breakglass.reasons import MAX_REASON

STATES = [("", "All events"), ("open", "Waiting for something"), ("reason-missing", "Reason missing"),
          ("rotation-late", "Rotation late"), ("closed", "Closed")]


class EventFilterForm(forms.Form):
    state = forms.ChoiceField(required=False, choices=STATES)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=MAX_REASON, strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_REASON}),
        help_text="What happened, and why the emergency credential was needed (an incident or change number helps).",
    )
