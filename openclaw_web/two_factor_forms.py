"""Forms of the two-factor pages that go beyond a six-digit code: starting a setup (with the
password again for a first device) and the verify step, which also takes a recovery code."""

from __future__ import annotations

from django import forms


class TwoFactorStartForm(forms.Form):
    """The password is asked for only when enrolling a first device without a fresh
    re-authentication; the view decides whether it is needed, this form only carries it."""

    password = forms.CharField(
        required=False,
        max_length=4096,
        strip=False,
        label="Your password, again",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)


class TwoFactorVerifyForm(forms.Form):
    code = forms.RegexField(
        # a 6-8 digit app code, or a recovery code (10 letters/digits, with or without its hyphen)
        regex=r"^\s*(\d{6,8}|[A-Za-z0-9]{5}[\s-]?[A-Za-z0-9]{5})\s*$",
        max_length=16,
        label="Code from your authenticator app, or a recovery code",
        error_messages={"invalid": "Enter the 6-digit code your app shows, or one of your recovery codes."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "off"}),
    )
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip()


class TwoFactorAdminResetForm(forms.Form):
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
