"""What /metrics says of downstream delivery: pending messages by system, the oldest one's age, each try's
outcome, and the erasures not told to every system in time (the dashboard lists them too)."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.services.erasure import erase_on_request
from tests.config.test_metrics import value
from tests.factories import ContactFactory
from webhooks.outbound.dispatcher import OutboundDispatcher
from webhooks.outbound.models import OutboundMessage
from webhooks.outbound.queue import configure_endpoint, queue_messages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("erasure_log_cleanup")]


def test_pending_messages_by_system_and_the_oldest_ones_age(scrape):
    configure_endpoint(key="a", label="billing", url="https://billing.example/", secrets=[], active=True)
    configure_endpoint(key="b", label="warehouse", url="https://wh.example/", secrets=[], active=True)
    for key in ("a", "a", "b"):
        queue_messages(endpoint_keys=[key], event_type="contact.erased", data={"id": 1}, at=timezone.now())
    OutboundMessage.objects.filter(endpoint__key="b").update(created_at=timezone.now() - timedelta(minutes=10))
    scraped = scrape()
    assert value(scraped, "crm_sync_outbound_pending", system="billing") == 2
    assert value(scraped, "crm_sync_outbound_pending", system="warehouse") == 1
    assert 600 <= value(scraped, "crm_sync_outbound_oldest_pending_age_seconds") < 660


def test_each_try_is_counted_by_system_and_outcome(scrape, receivers, settings):
    settings.OUTBOUND_GIVE_UP_HOURS = 0
    ok, down = receivers(), receivers(statuses=[500])
    configure_endpoint(key="ok", label="ok-system", url=ok.url, secrets=["whsec_" + "QUJD" * 8], active=True)
    configure_endpoint(key="down", label="down-system", url=down.url, secrets=["whsec_" + "QUJD" * 8], active=True)
    before = scrape()
    queue_messages(endpoint_keys=["ok", "down"], event_type="contact.erased", data={"id": 1}, at=timezone.now())
    OutboundDispatcher(poll_seconds=0.2).deliver_due()
    after = scrape()

    def tries(scraped, system, outcome):
        return value(scraped, "crm_sync_outbound_deliveries_total", system=system, outcome=outcome)

    assert tries(after, "ok-system", "delivered") - tries(before, "ok-system", "delivered") == 1
    assert tries(after, "down-system", "failed") - tries(before, "down-system", "failed") == 1


def test_erasures_not_told_in_time_are_overdue_in_metrics_and_on_the_dashboard(scrape, settings, admin_client):
    from django.core.management import call_command

    call_command("add_downstream_system", "--name", "spreadsheet", "--manual", stdout=io.StringIO())
    settings.ERASURE_PROPAGATION_HOURS = 24
    record = erase_on_request(
        contact=ContactFactory(), requested_by="dpo", requested_by_type="admin", reason="data_subject_request"
    )
    assert value(scrape(), "crm_sync_erasure_notices_overdue") == 0
    assert "dashboard-overdue-propagation" not in admin_client.get("/admin/").content.decode()

    settings.ERASURE_PROPAGATION_HOURS = 0
    assert value(scrape(), "crm_sync_erasure_notices_overdue") == 1
    page = admin_client.get("/admin/").content.decode()
    assert "dashboard-overdue-propagation" in page and f"/admin/contacts/erasurerecord/{record.pk}/change/" in page
