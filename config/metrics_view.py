"""``GET /metrics``: Prometheus text for whoever holds ``METRICS_TOKEN``.

What processes counted (deliveries, outcomes, erasures, worker batches) comes from ``config.metrics``, added
up over every process in multiprocess mode; what the database knows (the pending events and the oldest
one's age, the last verification of the erasure log) is read at each scrape, in two index-backed queries
(docs/operations.md), so every gunicorn worker answers the same. ``config`` is where the two apps meet.
"""

import hmac

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from config import metrics
from contacts.selectors import last_erasure_log_verification
from webhooks.selectors import pending_events_by_provider


class ThisProcessCollector:
    """The values this process counted (single-process mode: ``runserver``, one gunicorn worker)."""

    def collect(self):
        yield from metrics.REGISTRY.collect()


class DatabaseCollector:
    """Values whose truth is the database, read once per scrape."""

    def collect(self):
        try:
            pending = pending_events_by_provider()
            verification = last_erasure_log_verification()
        except DatabaseError:
            yield GaugeMetricFamily("crm_sync_database_up", "Whether the scrape could read the database.", value=0)
            return
        yield GaugeMetricFamily("crm_sync_database_up", "Whether the scrape could read the database.", value=1)
        now = timezone.now()
        counts = {row.provider: row.count for row in pending}
        by_provider = GaugeMetricFamily(
            "crm_sync_webhook_events_pending",
            "Stored events still received (due now or scheduled for a retry), by provider.",
            labels=["provider"],
        )
        for provider in sorted(set(settings.WEBHOOK_PROVIDERS) | set(counts)):
            by_provider.add_metric([provider], counts.get(provider, 0))
        yield by_provider
        oldest = min((row.oldest_received_at for row in pending), default=None)
        yield GaugeMetricFamily(
            "crm_sync_webhook_oldest_pending_age_seconds",
            "Seconds since the oldest pending event arrived (0 when none is pending).",
            value=max((now - oldest).total_seconds(), 0) if oldest else 0,
        )
        if verification is None:
            return  # never verified: the alert on the last verification's age fires (absent)
        yield GaugeMetricFamily(
            "crm_sync_erasure_log_verification_ok",
            "1 when the last verify_erasure_log run found the chain intact, 0 when it found it broken.",
            value=int(verification.ok),
        )
        yield GaugeMetricFamily(
            "crm_sync_erasure_log_verification_timestamp_seconds",
            "When verify_erasure_log last ran (Unix time).",
            value=verification.verified_at.timestamp(),
        )
        yield GaugeMetricFamily(
            "crm_sync_erasure_log_records",
            "Records in the erasure log's chain as the last verification counted them.",
            value=verification.records,
        )


def scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        registry.register(ThisProcessCollector())
    registry.register(DatabaseCollector())
    return registry


def authorized(request) -> bool:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    # Constant time: how much of a guess matched must not show in how long the answer takes.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        credentials.strip().encode(), settings.METRICS_TOKEN.encode()
    )


@require_GET
def metrics_view(request):
    if not settings.METRICS_TOKEN:
        raise Http404("metrics are not enabled")
    if not authorized(request):
        return JsonResponse(
            {"error": "a valid 'Authorization: Bearer <METRICS_TOKEN>' header is required"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
