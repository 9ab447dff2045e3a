"""Links that leave the browser (mails, alerts, tickets) are absolute on SITE_URL, and the deploy
check says so while SITE_URL cannot make them absolute."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import RequestFactory
from django.urls import reverse

from compliance.reviews.review import review_url
from openclaw_web.site_url import absolute_url
from vaults.breakglass import reasons
from vaults.breakglass.models import EmergencyUse
from vaults.breakglass.notify import event_url

SITE = "https://openclaw.example.com"


def _warnings() -> list[str]:
    return [m.id for m in checks.run_checks(include_deployment_checks=True) if m.id == "openclaw.W001"]


@pytest.mark.parametrize("site_url", [SITE, SITE + "/", f"  {SITE}/ "])
def test_a_path_is_made_absolute_on_site_url(settings, site_url):
    settings.SITE_URL = site_url

    assert absolute_url("/cleanup/plans/7/") == SITE + "/cleanup/plans/7/"


def test_without_site_url_a_page_falls_back_to_its_own_address_and_a_mail_to_the_path(settings):
    settings.SITE_URL = ""
    request = RequestFactory().get("/tickets/", HTTP_HOST="localhost:8443")

    assert absolute_url("/x/", request=request) == "http://localhost:8443/x/"
    assert absolute_url("/x/") == "/x/"


def test_every_mailed_link_kind_uses_site_url(settings):
    settings.SITE_URL = SITE
    event = EmergencyUse(pk=41)

    links = [
        event_url(event),
        reasons.link_for(event, who="user", email="d@example.com"),
        review_url(type("R", (), {"pk": 3})()),
    ]

    assert all(link.startswith(SITE + "/") for link in links), links
    assert links[0] == SITE + reverse("breakglass:detail", args=[41])


@pytest.mark.parametrize(
    "site_url", ["", "openclaw.example.com", "ftp://openclaw.example.com", "https://", f"{SITE}/?a=1"]
)
def test_the_deploy_check_warns_while_site_url_cannot_make_links_absolute(settings, site_url):
    settings.SITE_URL = site_url

    assert _warnings() == ["openclaw.W001"]


@pytest.mark.parametrize("site_url", [SITE, "http://127.0.0.1:8000", "https://example.com/openclaw"])
def test_the_deploy_check_accepts_an_http_or_https_address(settings, site_url):
    settings.SITE_URL = site_url  # decoys: a plain-http demo address, a path prefix

    assert _warnings() == []
