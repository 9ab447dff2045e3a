import pytest

from openclaw_web.roles import Role
from tests.e2e.conftest import screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_person_signs_in_through_the_real_form_and_sees_the_dashboard(page, live_server, make_user):
    make_user("carol", Role.COMPLIANCE_OFFICER)

    page.goto(f"{live_server.url}/findings/")
    assert "/accounts/login/?next=/findings/" in page.url
    page.fill("input[name=username]", "carol")
    page.fill("input[name=password]", "correct horse battery staple 9")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/findings/")  # back where the person was going
    page.goto(f"{live_server.url}/")

    assert page.locator("h1").first.inner_text() == "Dashboard"
    assert page.locator(".pill-role").inner_text() == "compliance officer"
    assert page.js_errors == []
    screenshot(page, "dashboard-after-login")


def test_a_wrong_password_keeps_the_person_on_the_login_page(page, live_server, make_user):
    make_user("carol", Role.COMPLIANCE_OFFICER)

    sign_in(page, live_server.url, "carol", "not the password")

    assert "/accounts/login/" in page.url
    assert page.locator("[role=alert]").is_visible()
