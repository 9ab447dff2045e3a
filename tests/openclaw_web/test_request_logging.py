"""A refused request is one log line; a crash keeps its traceback."""

from __future__ import annotations

import logging

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path, reverse


def _crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("crash/", _crash)]


def _request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


def test_a_403_is_logged_as_one_line_naming_the_path_the_person_and_the_reason(client_for, viewer, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client_for(viewer).get(reverse("audit:list"))

    assert response.status_code == 403
    [record] = _request_records(caplog)
    assert record.exc_info is None and not record.exc_text
    assert record.getMessage() == f"403 Forbidden: /audit/ ({viewer.username}, Your role does not allow: view audit log.)"
    assert "Traceback" not in caplog.text


@pytest.mark.django_db
@pytest.mark.urls("tests.openclaw_web.test_request_logging")
def test_a_500_still_logs_its_traceback(caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = Client(raise_request_exception=False).get("/crash/")

    assert response.status_code == 500
    [record] = _request_records(caplog)
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "Traceback" in caplog.text and "RuntimeError: boom" in caplog.text
