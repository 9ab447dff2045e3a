from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from vaults.models import Account

MAX_DAYS_AHEAD = 366  # a leave date a year out is a plan; further is a typo


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Open and overdue"), ("overdue", "Overdue only"), ("completed", "Completed"), ("cancelled", "Cancelled"), ("all", "All")],
    )
    account = forms.ModelChoiceField(queryset=Account.objects.all(), required=False, empty_label="All accounts")


class MarkLeavingForm(forms.Form):
    leave_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Leave date")

    def clean_leave_date(self) -> datetime.date:
        value: datetime.date = self.cleaned_data["leave_date"]
        today = timezone.now().date()
        if value > today + datetime.timedelta(days=MAX_DAYS_AHEAD):
            raise forms.ValidationError("Pick a leave date within the next year.")
        if value < today - datetime.timedelta(days=MAX_DAYS_AHEAD):
            raise forms.ValidationError("Pick a leave date within the last year.")
        return value


class CancelForm(forms.Form):
    note = forms.CharField(max_length=500, label="Why the case closes (the person stays, a mistake ...)")
