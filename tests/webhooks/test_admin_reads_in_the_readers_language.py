"""The event log's pages in Portuguese: reasons, actor types, field names and refused deliveries' reasons
translated on display, stored (and answered by the API) as they were."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import WebhookEventFactory
from webhooks.models import RejectedDelivery

pytestmark = pytest.mark.django_db

PT_BR = {"accept-language": "pt-BR"}


def test_an_events_page_reads_in_portuguese(admin_client):
    event = WebhookEventFactory(status="processed", status_reason="stale fields skipped: email, tags",
                                changed_fields=["assigned_to"], actor_type="automation", actor_id="flow_1")  # fmt: skip

    page = admin_client.get(reverse("admin:webhooks_webhookevent_change", args=[event.pk]), headers=PT_BR)
    text = page.content.decode()

    assert "campos desatualizados ignorados: e-mail, etiquetas" in text
    assert "automação" in text and "<code>atribuído a</code>" in text
    assert "stale fields" not in text


def test_refused_deliveries_reasons_read_in_portuguese_and_filter_by_the_stored_value(admin_client):
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    RejectedDelivery.objects.create(provider="fpt", reason="signature does not match", count=3, hour=hour)
    RejectedDelivery.objects.create(provider="fpt", reason="account not allowed", count=1, hour=hour)

    text = admin_client.get(reverse("admin:webhooks_rejecteddelivery_changelist"), headers=PT_BR).content.decode()

    assert "a assinatura não confere" in text and "conta não permitida" in text
    assert 'href="?reason=signature+does+not+match">a assinatura não confere</a>' in text
    assert ">signature does not match<" not in text
