"""The search page behind the header's search box: every kind of hit, grouped (vaults/search.py)."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from openclaw_web.http import HtmxHttpRequest
from openclaw_web.roles import Capability, requires
from vaults import search as search_domain

# One kind on its own ("show more"): enough to scan, bounded like every page.
ONE_KIND_LIMIT = 100


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=search_domain.MAX_QUERY_CHARS, label="Search",
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Items, vaults, people, groups, findings"}))  # fmt: skip
    type = forms.ChoiceField(required=False, choices=[("", "Everything"), *search_domain.KINDS])


@requires(Capability.VIEW_INVENTORY)
def search_page(request: HtmxHttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid search.")
    kind = form.cleaned_data["type"]
    results = search_domain.search(
        request.user,
        form.cleaned_data["q"],
        per_type=ONE_KIND_LIMIT if kind else search_domain.PER_TYPE,
        kinds=[kind] if kind else search_domain.KIND_NAMES,
    )
    context = {"nav": "search", "form": form, "results": results, "kind": kind, "candidates": search_domain.CANDIDATES}
    return render(request, "vaults/search.html", context)
