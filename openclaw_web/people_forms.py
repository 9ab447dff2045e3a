"""Forms of the people page (/settings/people/): create a person, set their roles, (de)activate."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm, UsernameField
from django.contrib.auth.models import User

from openclaw_web.roles import Role

ROLE_CHOICES = [(role.value, role.value.capitalize()) for role in Role]


def _roles_field() -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(
        choices=ROLE_CHOICES, coerce=Role, required=False, widget=forms.CheckboxSelectMultiple, label="Roles"
    )


class PersonCreateForm(UserCreationForm):
    """Django's own creation form (password typed twice and checked by the password validators)
    plus e-mail, name and roles. The administrator hands the first password over in person; the
    person changes it on their profile."""

    roles = _roles_field()

    class Meta:
        model = User
        fields = ("username", "email", "first_name", "last_name")
        field_classes = {"username": UsernameField}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        # Django's form autofocuses the username: on this page that scrolls past the people list.
        self.fields["username"].widget.attrs.pop("autofocus", None)


class RolesForm(forms.Form):
    roles = _roles_field()


class ActivationForm(forms.Form):
    active = forms.TypedChoiceField(choices=[("1", "active"), ("0", "inactive")], coerce=lambda v: v == "1")
