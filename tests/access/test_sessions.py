"""Session hygiene: idle admin sessions end; an administrator can end all of a user's sessions."""

import time

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config.staff.sessions import LAST_REQUEST_KEY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def idle_for(client, seconds):
    session = client.session
    session[LAST_REQUEST_KEY] = int(time.time()) - seconds
    session.save()


def test_the_session_lives_the_idle_time_past_its_last_request():
    assert django_settings.SESSION_COOKIE_AGE == django_settings.ADMIN_SESSION_IDLE_MINUTES * 60 == 30 * 60


def test_an_admin_session_idle_longer_than_the_limit_asks_for_the_password_again(admin_client, settings):
    settings.ADMIN_SESSION_IDLE_MINUTES = 30
    idle_for(admin_client, 30 * 60 + 5)

    response = admin_client.get("/admin/contacts/contact/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in admin_client.session


def test_a_session_in_use_stays_open_and_its_expiry_moves_forward(admin_client, settings):
    settings.ADMIN_SESSION_IDLE_MINUTES = 30
    idle_for(admin_client, 29 * 60)
    expiry_before = Session.objects.get().expire_date

    assert admin_client.get("/admin/contacts/contact/").status_code == 200

    assert time.time() - admin_client.session[LAST_REQUEST_KEY] < 60
    assert Session.objects.get().expire_date > expiry_before


def test_requests_within_the_minute_do_not_write_the_session(admin_client):
    admin_client.get("/admin/")  # right after the login: nothing to push forward yet

    with CaptureQueriesContext(connection) as queries:
        admin_client.get("/admin/")

    assert not [q for q in queries if "django_session" in q["sql"] and not q["sql"].lstrip().startswith("SELECT")]


def test_log_out_everywhere_ends_every_session_of_the_chosen_users_only(admin_client):
    stolen = UserFactory(is_staff=True)
    laptop, phone, other = Client(), Client(), Client()
    laptop.force_login(stolen)
    phone.force_login(stolen)
    other.force_login(UserFactory(is_staff=True))

    response = admin_client.post("/admin/auth/user/", {"action": "log_out_everywhere", "_selected_action": [stolen.pk]})

    assert response.status_code == 302
    assert "_auth_user_id" not in laptop.session
    assert "_auth_user_id" not in phone.session
    assert "_auth_user_id" in other.session
    assert "_auth_user_id" in admin_client.session
