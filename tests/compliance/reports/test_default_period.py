"""Generate and Preview start on the same period: the last complete quarter."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

PERIOD_VALUES = re.compile(r'<input[^>]*name="period"[^>]*value="([^"]*)"')


def _last_complete_quarter() -> tuple[str, str]:
    today = timezone.now().date()
    quarter = (today.month - 1) // 3 + 1
    year, previous = (today.year, quarter - 1) if quarter > 1 else (today.year - 1, 4)
    return f"{year}Q{previous}", f"{today.year}Q{quarter}"


def test_generate_and_preview_default_to_the_last_complete_quarter(client_for, compliance_officer):
    expected, current = _last_complete_quarter()

    body = client_for(compliance_officer).get(reverse("reports:list")).content.decode()

    assert PERIOD_VALUES.findall(body) == [expected, expected]  # preview form first, then Generate
    assert f'value="{current}"' not in body  # decoy: the quarter still running


def test_the_empty_preview_page_starts_on_the_same_period(client_for, auditor):
    expected, _ = _last_complete_quarter()

    body = client_for(auditor).get(reverse("reports:preview")).content.decode()

    assert PERIOD_VALUES.findall(body) == [expected]
