from __future__ import annotations

from django.test import Client


def test_a_missing_page_is_a_404_in_the_layout_for_a_signed_in_person(client_for, viewer) -> None:
    # The layout once read the resolver match of the URL, which a 404 does not have: a 500.
    response = client_for(viewer).get("/no-such-page/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "That page or record does not exist." in body and "Sign out" in body


def test_a_missing_page_is_a_404_for_someone_signed_out(db) -> None:
    response = Client().get("/no-such-page/")

    assert response.status_code == 404 and "Not found" in response.content.decode()
