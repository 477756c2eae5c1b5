"""Login throttling (django-axes): failures lock one username from one address, nothing wider."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token

from tests.access.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
OFFICE = "203.0.113.7"


@pytest.fixture
def limit(settings):
    return settings.AXES_FAILURE_LIMIT


def log_in(client, username, password, address=OFFICE):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address)


def fail(client, username, times, address=OFFICE):
    for _ in range(times):
        assert log_in(client, username, "wrong", address).status_code in (200, 429)


def test_the_limit_of_failures_locks_that_username_from_that_address(client, staff, limit):
    fail(client, staff.username, limit - 1)
    assert log_in(client, staff.username, PASSWORD).status_code == 302  # one short of the limit: still in
    client.logout()
    fail(client, staff.username, limit)

    response = log_in(client, staff.username, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lockout_leaves_other_addresses_and_other_users_of_the_same_address_alone(client, staff, limit):
    colleague = UserFactory(is_staff=True)
    fail(client, staff.username, limit)

    assert log_in(client, staff.username, PASSWORD, address="198.51.100.9").status_code == 302
    client.logout()
    assert log_in(client, colleague.username, PASSWORD).status_code == 302  # same office address


def test_a_success_before_the_limit_starts_the_count_again(client, staff, limit):
    fail(client, staff.username, limit - 1)
    assert log_in(client, staff.username, PASSWORD).status_code == 302
    client.logout()
    fail(client, staff.username, limit - 1)

    assert log_in(client, staff.username, PASSWORD).status_code == 302


def test_lockouts_are_listed_in_admin_and_deleting_one_unlocks(client, staff, limit):
    locked = UserFactory(is_staff=True)
    fail(client, locked.username, limit)
    assert log_in(client, locked.username, PASSWORD).status_code == 429
    attempt = AccessAttempt.objects.get(username=locked.username, ip_address=OFFICE)

    admin_client = client.__class__()
    admin_client.force_login(staff)
    assert locked.username in admin_client.get("/admin/axes/accessattempt/").content.decode()
    response = admin_client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302

    assert log_in(client, locked.username, PASSWORD).status_code == 302


def test_a_lockout_ends_by_itself_after_the_cool_off(client, staff, limit, settings):
    fail(client, staff.username, limit)
    assert log_in(client, staff.username, PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME)

    assert log_in(client, staff.username, PASSWORD).status_code == 302


def test_a_locked_user_s_api_token_and_the_webhooks_keep_working(client, staff, limit, post_webhook, timely_fixture):
    staff.user_permissions.add(Permission.objects.get(codename="view_contact"))
    token = Token.objects.create(user=staff)
    here = "127.0.0.1"  # where the test client's API calls and webhook deliveries come from
    fail(client, staff.username, limit, address=here)
    assert log_in(client, staff.username, PASSWORD, address=here).status_code == 429

    api = client.get("/api/contacts/", headers={"Authorization": f"Token {token.key}"})
    webhook = post_webhook("timely", timely_fixture("contact.created"))

    assert api.status_code == 200
    assert webhook.status_code == 200
    assert webhook.json()["status"] == "accepted"


def test_wrong_api_tokens_and_bad_webhook_signatures_lock_nobody_out(client, staff, limit, post_webhook,
                                                                     timely_fixture):  # fmt: skip
    for _ in range(limit + 2):
        assert client.get("/api/contacts/", headers={"Authorization": "Token wrong"}).status_code == 401
        assert post_webhook("timely", timely_fixture("contact.created"), sign=False).status_code == 401

    assert not AccessAttempt.objects.exists()
    assert log_in(client, staff.username, PASSWORD, address="127.0.0.1").status_code == 302


def test_a_failed_attempt_keeps_no_search_from_the_page_it_came_from(client, staff):
    searched = "/admin/contacts/contact/?q=Ana+Concei%C3%A7%C3%A3o"
    client.post(f"{LOGIN}?next={searched}", {"username": staff.username, "password": "wrong", "next": searched})

    attempt = AccessAttempt.objects.get()
    assert "Ana" not in attempt.get_data + attempt.post_data
    assert "next=" in attempt.post_data  # the field is there, masked
