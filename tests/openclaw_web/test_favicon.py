"""The tab icon: linked from every page, and /favicon.ico answered instead of a 404 per visit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_anyone_to_the_svg_icon():
    response = Client().get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.svg"


def test_the_icon_is_a_real_svg_file_among_the_static_files():
    path = finders.find("img/favicon.svg")

    assert path is not None
    root = ET.parse(path).getroot()  # noqa: S314 (the product's own file)
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox") == "0 0 32 32"


def test_pages_link_the_icon_signed_in_and_signed_out(client_for, viewer):
    signed_out = Client().get(reverse("login")).content.decode()
    signed_in = client_for(viewer).get(reverse("dashboard")).content.decode()

    for body in (signed_out, signed_in):
        assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in body
