"""Fixtures of the work-orders tests."""

import pytest
from rest_framework.authtoken.models import Token

from workorders.tests.factories import crew_user, make_crew, reference_data


@pytest.fixture
def wo_reference(db):
    """SLA and pool policies, role groups (what the data migrations load)."""
    reference_data()


@pytest.fixture
def crew(wo_reference):
    """An on-duty crew at the reference point, capacity 3, skill lv."""
    return make_crew()


@pytest.fixture
def crew_member(crew):
    """A crew member of ``crew`` (a user with the crew-member role)."""
    return crew_user(crew, "member1")


@pytest.fixture
def crew_client(api_client, crew_member):
    """An API client authenticated with the crew member's token (as the app does)."""
    token = Token.objects.create(user=crew_member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client
