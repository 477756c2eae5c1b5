"""Per-user throttling: API_THROTTLE_RATE requests per user, answered 429 past it."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


def reader(username):
    user = UserFactory(username=username)
    user.user_permissions.add(Permission.objects.get(codename="view_contact"))
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_user_past_the_rate_gets_429_with_retry_after(settings):
    settings.API_THROTTLE_RATE = "2/minute"
    ana = reader("ana")

    answers = [ana.get("/api/contacts/").status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    assert int(ana.get("/api/contacts/").headers["Retry-After"]) > 0


def test_each_user_has_its_own_budget(settings):
    settings.API_THROTTLE_RATE = "1/minute"
    ana, bruno = reader("ana"), reader("bruno")

    assert ana.get("/api/contacts/").status_code == 200
    assert ana.get("/api/contacts/").status_code == 429
    assert bruno.get("/api/contacts/").status_code == 200


def test_an_empty_rate_turns_throttling_off(settings):
    settings.API_THROTTLE_RATE = ""
    ana = reader("ana")

    assert {ana.get("/api/contacts/").status_code for _ in range(5)} == {200}
