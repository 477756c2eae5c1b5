"""Staff read times in TIME_ZONE (America/Sao_Paulo unless set), one format with the zone shown; the REST
API and the logs stay in UTC whatever TIME_ZONE says, so their readers never see a change."""

import logging
from datetime import UTC, datetime

import pytest
from django.test import override_settings
from django.urls import reverse

from config.timestamps import UtcLogFormatter, display_time
from tests.config.test_health_and_settings import run_manage
from tests.factories import ContactFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 4, 19, 14, 30, 5, tzinfo=UTC)


def test_time_zone_and_language_default_to_brazil_and_english_and_read_the_environment():
    code = "from django.conf import settings as s; print(s.TIME_ZONE, s.LANGUAGE_CODE)"
    default = run_manage("shell", "-c", code, DJANGO_SETTINGS_MODULE="config.settings.local")
    chosen = run_manage("shell", "-c", code, DJANGO_SETTINGS_MODULE="config.settings.local",
                        TIME_ZONE="America/Manaus", LANGUAGE_CODE="pt-br")  # fmt: skip

    assert default.stdout.splitlines()[-1].split() == ["America/Sao_Paulo", "en-us"], default.stderr
    assert chosen.stdout.splitlines()[-1].split() == ["America/Manaus", "pt-br"], chosen.stderr


def test_admin_times_are_local_in_one_format_with_the_zone(admin_client):
    event = WebhookEventFactory(received_at=MOMENT, occurred_at=MOMENT, external_id="cont_1")
    contact = ContactFactory(external_id="cont_1", remote_created_at=MOMENT)

    listing = admin_client.get(reverse("admin:webhooks_webhookevent_changelist")).content.decode()
    event_page = admin_client.get(reverse("admin:webhooks_webhookevent_change", args=[event.pk])).content.decode()
    contact_page = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk])).content.decode()

    assert display_time(MOMENT) == "2026-04-19 11:30:05 -03"
    for page in (listing, event_page, contact_page):
        assert "2026-04-19 11:30:05 -03" in page
        assert "14:30:05" not in page
        assert 'id="crm-time-zone"' in page and "America/Sao_Paulo (UTC-03:00)" in page
    assert contact_page.count("2026-04-19 11:30:05 -03") >= 3  # the field and both timeline columns


def test_the_format_is_the_same_in_portuguese(admin_client):
    ContactFactory(remote_created_at=MOMENT)
    contact = ContactFactory(remote_created_at=MOMENT)

    page = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk]),
                            headers={"accept-language": "pt-BR"}).content.decode()  # fmt: skip

    assert "2026-04-19 11:30:05 -03" in page
    assert 'lang="pt-br"' in page


@pytest.mark.parametrize("zone", ["America/Sao_Paulo", "Asia/Tokyo"])
def test_the_api_answers_in_utc_whatever_the_time_zone(admin_client, zone):
    contact = ContactFactory(remote_created_at=MOMENT)
    with override_settings(TIME_ZONE=zone):
        row = admin_client.get("/api/contacts/", {"id": contact.pk}).json()["results"][0]
        # A time without an offset in a filter is UTC too, as it always was.
        newer = admin_client.get("/api/contacts/", {"updated_since": "2000-01-01T00:00:00"}).json()["results"]

    assert row["remote_created_at"] == "2026-04-19T14:30:05Z"
    assert row["updated_at"].endswith("Z")
    assert [r["id"] for r in newer] == [contact.pk]


def test_log_lines_carry_utc_times():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "message", None, None)
    record.created = MOMENT.timestamp()
    record.msecs = 0

    assert UtcLogFormatter("%(asctime)s %(message)s").format(record) == "2026-04-19T14:30:05.000Z message"
