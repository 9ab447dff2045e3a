"""The small forms of the page proposals (page_proposals.py): what a person types is what `op`
receives, so it is checked here with a clear error before any plan sees it.

Rules, shared with the plan's edit form (forms.py) and the command builder (vaults/op/commands.py):
1. Hidden or right-to-left control characters are refused, naming the code points (issue #14).
2. Control characters (tab, newline, NUL…) are refused: 1Password titles and URLs are one line.
3. Lengths are bounded: a title as the naming convention's suggestions (200), a URL 1,000, a tag 200,
   at most 30 tags.
4. A URL needs a scheme and a host; `javascript:`, `data:`, `file:`, `vbscript:` and other
   schemes that run or read something on click are refused, and so is a URL carrying credentials.
5. A description would be the item's notes, which OpenClaw never reads or writes: there is no
   description field (the form says so).
"""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms

from vaults.cleanup.forms import _without_hidden_characters
from vaults.cleanup.naming import MAX_TITLE
from vaults.cleanup.page_proposals import REVOKE_ALL, REVOKE_ELEVATED, Destination
from vaults.models import Vault
from vaults.op.commands import MAX_TAG_CHARS, MAX_TITLE_CHARS
from vaults.op.url_redaction import has_credentials

MAX_TAGS = 30
SAFE_SCHEMES = frozenset({"http", "https", "ssh", "sftp", "ftp", "ftps", "rdp", "vnc", "smb", "ldap", "ldaps",
                          "postgres", "postgresql", "mysql", "mongodb", "redis", "rediss", "amqp", "amqps"})  # fmt: skip
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<host>[^/?#\s]+)(?P<rest>[/?#]\S*)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
DESCRIPTION_NOTE = (
    "A description would live in the item's notes, which OpenClaw never reads or writes (they can hold "
    "secrets): add one in 1Password itself."
)


def _one_line(value: str, *, what: str) -> str:
    value = _without_hidden_characters(value, what=what)
    if _CONTROL.search(value):
        raise forms.ValidationError(
            "%(what)s contains control characters (tab, line break…): it must be one line of text.",
            code="control_characters",
            params={"what": what},
        )
    return value


def clean_url(value: str) -> str:
    url = _one_line(value.strip(), what="The URL")
    if not url:
        return ""
    match = _URL.fullmatch(url)
    if match is None:
        raise forms.ValidationError(
            "Enter a full address with its scheme, such as https://dashboard.example.com/ (no spaces).",
            code="url_shape",
        )
    if match["scheme"].lower() not in SAFE_SCHEMES:
        raise forms.ValidationError(
            "“%(scheme)s:” addresses are refused: they run or open something on click. Use https:// (or ssh://, "
            "postgres://… for a server).",
            code="url_scheme",
            params={"scheme": match["scheme"].lower()[:20]},
        )
    if has_credentials(url):
        raise forms.ValidationError(
            "The URL contains a user name, password or secret-looking parameter (token, key, signature…): "
            "remove it; credentials belong in a password field, not in a URL.",
            code="url_credentials",
        )
    return url


def clean_tags(value: str) -> list[str]:
    raw = _one_line(value, what="The tags")
    tags: list[str] = []
    for part in raw.split(","):
        tag = part.strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise forms.ValidationError(
                "A tag is at most %(n)d characters.", code="tag_length", params={"n": MAX_TAG_CHARS}
            )
        if '"' in tag:
            raise forms.ValidationError("A tag may not contain a double quote.", code="tag_quote")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise forms.ValidationError("At most %(n)d tags.", code="too_many_tags", params={"n": MAX_TAGS})
    return tags


class MetadataForm(forms.Form):
    url = forms.CharField(
        label="Primary URL", required=False, max_length=MAX_TITLE_CHARS, widget=forms.URLInput(attrs={"size": 60})
    )
    tags = forms.CharField(
        label="Tags", required=False, max_length=2000, help_text="Comma-separated; replaces the item's tags.",
        widget=forms.TextInput(attrs={"size": 60}),
    )  # fmt: skip
    finding = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_url(self) -> str:
        return clean_url(self.cleaned_data["url"])

    def clean_tags(self) -> list[str] | None:
        # An untouched or emptied field leaves the tags alone: clearing every tag is never what a
        # "missing metadata" fix means.
        tags = clean_tags(self.cleaned_data["tags"])
        return tags or None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("url") and not data.get("tags"):
            raise forms.ValidationError("Enter a URL, tags, or both.", code="empty")
        return data


class RenameForm(forms.Form):
    title = forms.CharField(label="New title", max_length=MAX_TITLE, widget=forms.TextInput(attrs={"size": 60}))

    def clean_title(self) -> str:
        title = _one_line(self.cleaned_data["title"].strip(), what="The title")
        if not title:
            raise forms.ValidationError("Enter a title.", code="required")
        return title


class MoveForm(forms.Form):
    destination = forms.ModelChoiceField(label="Move to vault", queryset=Vault.objects.none(), empty_label=None)

    def __init__(self, *args: Any, destinations: list[Destination], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.destinations = {d.vault.pk: d for d in destinations}
        field = cast(forms.ModelChoiceField, self.fields["destination"])
        field.queryset = Vault.objects.filter(pk__in=list(self.destinations)).order_by("name", "pk")
        field.label_from_instance = self._label  # type: ignore[method-assign, assignment]  # Django's documented hook

    def _label(self, vault: Vault) -> str:
        manual = self.destinations[vault.pk].is_manual
        return f"{vault.name}{' — manual step (no identity can write there)' if manual else ''}"

    def chosen(self) -> Destination:
        return self.destinations[self.cleaned_data["destination"].pk]


class ArchiveForm(forms.Form):
    """Nothing to fill in: the POST itself is the proposal (the item goes to 1Password's Archive)."""


class RevokeForm(forms.Form):
    which = forms.ChoiceField(
        label="Permissions to revoke",
        choices=[
            (REVOKE_ALL, "All: remove the access entirely"),
            (REVOKE_ELEVATED, "Elevated only: manage vault, export items"),
        ],
        initial=REVOKE_ALL,
    )
