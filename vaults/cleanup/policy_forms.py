"""The rotation part of the global policy, as an administrator edits it."""

from __future__ import annotations

from typing import Any

from django import forms

from vaults.cleanup.rotation import valid_recipe

# 1Password's item categories as `op` prints them; only those holding a secret to rotate.
ROTATABLE_CATEGORIES = [
    ("LOGIN", "Login"),
    ("PASSWORD", "Password"),
    ("API_CREDENTIAL", "API credential"),
    ("DATABASE", "Database"),
    ("SERVER", "Server"),
    ("SSH_KEY", "SSH key"),
    ("WIRELESS_ROUTER", "Wireless router"),
    ("EMAIL_ACCOUNT", "Email account"),
]
CHARACTER_SETS = [("letters", "Letters"), ("digits", "Digits"), ("symbols", "Symbols")]


class RotationPolicyForm(forms.Form):
    allow_generate_password = forms.BooleanField(
        required=False,
        label="Let op generate new passwords",
        help_text="Off: every rotation is a manual step for a person. On: the categories below are rotated "
        "with op item edit --generate-password after approval.",
    )
    generate_password_categories = forms.MultipleChoiceField(
        choices=ROTATABLE_CATEGORIES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Categories op may rotate",
        help_text="Others need a person: the secret must change at its source (provider, database, server) "
        "in the same step.",
    )
    character_sets = forms.MultipleChoiceField(
        choices=CHARACTER_SETS, widget=forms.CheckboxSelectMultiple, label="Character sets"
    )
    length = forms.IntegerField(min_value=12, max_value=128, label="Length")

    @classmethod
    def initial_from(cls, policy: Any) -> dict[str, Any]:
        parts = str(policy.password_recipe).split(",")
        return {
            "allow_generate_password": policy.allow_generate_password,
            "generate_password_categories": list(policy.generate_password_categories),
            "character_sets": parts[:-1],
            "length": int(parts[-1]) if parts[-1].isdigit() else 32,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        sets = [name for name, _ in CHARACTER_SETS if name in (data.get("character_sets") or [])]
        if sets and data.get("length"):
            recipe = ",".join([*sets, str(data["length"])])
            if not valid_recipe(recipe):
                raise forms.ValidationError("op does not accept this recipe.")
            data["password_recipe"] = recipe
        return data
