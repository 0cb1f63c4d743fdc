"""After login each role lands on its own page; the home page links every desk."""

import pytest

pytestmark = pytest.mark.django_db

PASSWORD = "pass-for-tests-1"


@pytest.mark.parametrize(
    ("user", "landing"),
    [
        ("hotline_agent", "/agent/"),
        ("dispatcher", "/console/"),
        ("supervisor", "/console/"),
        ("outsider", "/"),
    ],
)
def test_a_user_lands_on_the_page_of_their_role(client, request, user, landing):
    account = request.getfixturevalue(user)
    response = client.post("/accounts/login/", {"username": account.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == landing


def test_next_still_wins_over_the_role(client, hotline_agent):
    response = client.post(
        "/accounts/login/?next=/map/", {"username": hotline_agent.username, "password": PASSWORD}
    )
    assert response["Location"] == "/map/"


def test_the_home_page_links_the_agent_desk(client):
    page = client.get("/").content.decode()
    assert 'href="/agent/"' in page
    assert 'href="/console/"' in page
