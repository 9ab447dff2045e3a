"""The vault choice list of the findings filter: rendered once per inventory version, shared by
every filter URL, with the chosen vault marked per request.

Django renders a select's options through a template each (about 40 µs an option here), and the
filters fragment is cached per URL: every findings page (each keyset cursor is a new URL) rendered
the whole list again. Built here as one string from (pk, name) rows instead, and cached once.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from openclaw_web.fragment_cache import cached_fragment
from vaults.models import Vault


def _options() -> str:
    rows = Vault.objects.filter(removed_at__isnull=True).order_by("name", "pk").values_list("pk", "name")
    return "".join(f'<option value="{pk}">{escape(name)}</option>' for pk, name in rows)


def vault_options(request: HttpRequest, *, selected: Vault | None) -> SafeString:
    """`<option>` elements of the live vaults by name, `selected` marked."""
    html = str(cached_fragment(request, "vault-options", _options, per_path=False))
    if selected is not None:
        plain = f'<option value="{selected.pk}">'
        html = html.replace(plain, f'<option value="{selected.pk}" selected>', 1)
    return mark_safe(html)  # noqa: S308 — names escaped above
