"""Staff read times in TIME_ZONE (America/Sao_Paulo unless set), to the minute, in their language's format,
the zone named once per page (the header); the REST API and the logs stay in UTC whatever TIME_ZONE says, so
their readers never see a change."""

import logging
import re
from datetime import UTC, datetime

import pytest
from django.test import override_settings
from django.urls import reverse

from config.values.timestamps import UtcLogFormatter, display_time
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


def test_admin_times_are_local_to_the_minute_with_the_zone_named_once(admin_client):
    event = WebhookEventFactory(received_at=MOMENT, occurred_at=MOMENT, external_id="cont_1")
    contact = ContactFactory(external_id="cont_1", remote_created_at=MOMENT)

    listing = admin_client.get(reverse("admin:webhooks_webhookevent_changelist")).content.decode()
    event_page = admin_client.get(reverse("admin:webhooks_webhookevent_change", args=[event.pk])).content.decode()
    contact_page = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk])).content.decode()

    assert display_time(MOMENT) == "2026-04-19 11:30"
    for page in (listing, event_page, contact_page):
        assert "2026-04-19 11:30" in page
        assert "14:30:05" not in page
        assert 'id="crm-time-zone"' in page and page.count("America/Sao_Paulo (UTC-03:00)") == 1
        assert "11:30:05" not in page and "11:30 -03" not in page
    assert contact_page.count("2026-04-19 11:30") >= 3  # the field and both timeline columns


def test_in_portuguese_times_read_dd_mm_aaaa_hh_mm(admin_client):
    event = WebhookEventFactory(received_at=MOMENT, occurred_at=MOMENT, external_id="cont_1")
    contact = ContactFactory(external_id="cont_1", remote_created_at=MOMENT)
    pt_br = {"accept-language": "pt-BR"}

    pages = [
        admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk]), headers=pt_br),
        admin_client.get(reverse("admin:contacts_contact_changelist"), headers=pt_br),
        admin_client.get(reverse("admin:webhooks_webhookevent_changelist"), headers=pt_br),
        admin_client.get(reverse("admin:webhooks_webhookevent_change", args=[event.pk]), headers=pt_br),
    ]

    for page in (response.content.decode() for response in pages):
        assert 'lang="pt-br"' in page
        assert re.search(r"\b\d\d/\d\d/\d{4} \d\d:\d\d\b", page)
        assert not re.search(r">[^<]*\b\d{4}-\d\d-\d\d\b", page.replace("&quot;", '"'))  # no ISO day shown
        assert page.count("America/Sao_Paulo (UTC-03:00)") == 1
    assert "19/04/2026 11:30" in pages[0].content.decode()  # the contact's field and its timeline


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
