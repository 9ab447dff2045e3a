from __future__ import annotations

from django import forms
from django.core.validators import validate_email

from compliance.reports.models import ReportFormat, ReportKind, ReportSchedule
from compliance.reviews.forms import PeriodField
from vaults.models import Account


class GenerateForm(forms.Form):
    kind = forms.ChoiceField(choices=ReportKind.choices)
    period = PeriodField(max_length=20, help_text="2026Q1 or 2026-03")
    format = forms.ChoiceField(choices=ReportFormat.choices)
    account = forms.ModelChoiceField(queryset=Account.objects.order_by("name"), required=False,
                                     empty_label="All accounts")


class PreviewForm(forms.Form):
    kind = forms.ChoiceField(choices=ReportKind.choices)
    period = PeriodField(max_length=20)
    account = forms.ModelChoiceField(queryset=Account.objects.order_by("name"), required=False,
                                     empty_label="All accounts")


class ScheduleForm(forms.ModelForm):
    recipients_text = forms.CharField(label="Recipients (comma-separated e-mails)", max_length=2000)

    class Meta:
        model = ReportSchedule
        fields = ["kind", "format", "cadence", "attach"]

    def clean_recipients_text(self) -> list[str]:
        emails = [e.strip() for e in self.cleaned_data["recipients_text"].replace(";", ",").split(",") if e.strip()]
        if not emails:
            raise forms.ValidationError("Name at least one recipient.")
        for email in emails:
            validate_email(email)
        return emails
