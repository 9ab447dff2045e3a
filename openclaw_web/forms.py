"""Forms of the person's own pages: API tokens and two-factor codes."""

from __future__ import annotations

from django import forms


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “SIEM export”.")


class TwoFactorCodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6,8}\s*$",
        max_length=12,
        label="Code from your authenticator app",
        error_messages={"invalid": "Enter the 6-digit code your app shows."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip()
