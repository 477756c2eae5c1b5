"""What ``/metrics`` reads of the event log at each scrape (``config.ops.metrics_view``; added in
``WebhooksConfig.ready``): the pending events by provider, and the oldest one's age; the same of the
outbound messages, by downstream system."""

from django.conf import settings
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from webhooks.outbound.queue import pending_by_endpoint
from webhooks.selectors import pending_events_by_provider


def pending_event_gauges() -> list[GaugeMetricFamily]:
    pending = pending_events_by_provider()
    counts = {row.provider: row.count for row in pending}
    by_provider = GaugeMetricFamily(
        "crm_sync_webhook_events_pending",
        "Stored events still received (due now or scheduled for a retry), by provider.",
        labels=["provider"],
    )
    for provider in sorted(set(settings.WEBHOOK_PROVIDERS) | set(counts)):
        by_provider.add_metric([provider], counts.get(provider, 0))
    oldest = min((row.oldest_received_at for row in pending), default=None)
    oldest_age = GaugeMetricFamily(
        "crm_sync_webhook_oldest_pending_age_seconds",
        "Seconds since the oldest pending event arrived (0 when none is pending).",
        value=max((timezone.now() - oldest).total_seconds(), 0) if oldest else 0,
    )
    return [by_provider, oldest_age]


def outbound_gauges() -> list[GaugeMetricFamily]:
    pending = pending_by_endpoint()
    by_system = GaugeMetricFamily(
        "crm_sync_outbound_pending",
        "Outbound messages not yet delivered and not given up on, by downstream system.",
        labels=["system"],
    )
    for row in pending:
        by_system.add_metric([row["label"]], row["count"])
    oldest = min((row["oldest"] for row in pending), default=None)
    oldest_age = GaugeMetricFamily(
        "crm_sync_outbound_oldest_pending_age_seconds",
        "Seconds since the oldest pending outbound message was queued (0 when none is pending).",
        value=max((timezone.now() - oldest).total_seconds(), 0) if oldest else 0,
    )
    return [by_system, oldest_age]
