from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import validate_email

from compliance.alerts import http
from compliance.alerts.models import AlertChannel, AlertRule
from openclaw_web.env_names import ALERT_ENV
from vaults.models import Account, Vault


def _env_name(value: str) -> str:
    # The app signs with, or posts to, the named variable's value: never SECRET_KEY, AUDIT_KEY, ...
    value = value.strip()
    if value and not ALERT_ENV.allows(value):
        raise forms.ValidationError(ALERT_ENV.refusal())
    return value


class ChannelForm(forms.ModelForm):
    recipients_text = forms.CharField(label="Recipients (comma-separated e-mails)", max_length=2000, required=False)

    class Meta:
        model = AlertChannel
        fields = ["name", "kind", "url", "url_env", "secret_env", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["recipients_text"] = ", ".join(self.instance.recipients)
        for name in ("url_env", "secret_env"):
            self.fields[name].help_text += f" Its name starts {ALERT_ENV.prefix}, e.g. {ALERT_ENV.example}."

    def clean_url_env(self) -> str:
        return _env_name(self.cleaned_data["url_env"])

    def clean_secret_env(self) -> str:
        return _env_name(self.cleaned_data["secret_env"])

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if url:
            try:
                http.check_url(url)
            except http.UnsafeURL as error:
                raise forms.ValidationError(str(error)) from error
        return url

    def clean_recipients_text(self) -> list[str]:
        emails = [e.strip() for e in self.cleaned_data["recipients_text"].replace(";", ",").split(",") if e.strip()]
        for email in emails:
            validate_email(email)
        return emails

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == AlertChannel.Kind.EMAIL:
            if not data.get("recipients_text") and "recipients_text" not in self.errors:
                self.add_error("recipients_text", "Name at least one recipient.")
            data["url"] = data["url_env"] = data["secret_env"] = ""
        elif kind in (AlertChannel.Kind.WEBHOOK, AlertChannel.Kind.SLACK):
            if not data.get("url") and not data.get("url_env") and "url" not in self.errors:
                self.add_error("url", "Give the address, or the environment variable that holds it.")
            if kind == AlertChannel.Kind.WEBHOOK and not data.get("secret_env") and "secret_env" not in self.errors:
                self.add_error("secret_env", "Webhook bodies are always signed: name the variable holding the key.")
            data["recipients_text"] = []
        return data

    def save(self, commit: bool = True) -> AlertChannel:
        channel = super().save(commit=False)
        channel.recipients = self.cleaned_data["recipients_text"]
        for name in ("url", "url_env", "secret_env"):
            setattr(channel, name, self.cleaned_data.get(name, ""))
        if commit:
            channel.save()
        return channel


class RuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = ["name", "kind", "threshold", "account", "vault", "channels", "enabled"]
        widgets = {"channels": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["account"].empty_label = "All accounts"  # type: ignore[attr-defined]
        vaults = Vault.objects.filter(removed_at__isnull=True).select_related("account").order_by("account__name", "name")
        self.fields["vault"].queryset = vaults  # type: ignore[attr-defined]
        self.fields["vault"].empty_label = "Organisation / any vault"  # type: ignore[attr-defined]
        self.fields["channels"].queryset = AlertChannel.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["threshold"].help_text = "Health rules only: alert while the score is below this (1-100)."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, threshold, vault, account = data.get("kind"), data.get("threshold"), data.get("vault"), data.get("account")
        if kind == AlertRule.Kind.HEALTH_BELOW:
            if threshold is None or not 1 <= threshold <= 100:
                self.add_error("threshold", "A health rule needs a threshold between 1 and 100.")
        else:
            data["threshold"] = None
        if vault is not None and account is not None and vault.account_id != account.pk:
            self.add_error("vault", "This vault belongs to another account.")
        if vault is not None and account is None:
            data["account"] = vault.account
        return data
