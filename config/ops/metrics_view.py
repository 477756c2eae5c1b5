"""``GET /metrics``: Prometheus text for whoever holds ``METRICS_TOKEN``.

What processes counted (deliveries, outcomes, erasures, worker batches) comes from ``config.ops.metrics``, added
up over every process in multiprocess mode; what the database knows (the pending events and the oldest
one's age, the last verification of the erasure log) is read at each scrape, in two index-backed queries
(docs/operations.md), so every gunicorn worker answers the same. Those database values come from the apps:
each adds its reader in its ``ready`` (``add_database_gauges``), so this module imports no app.
"""

import hmac
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from config.ops import metrics, shared_counters

# Each app's reader of its database values, by app: called at every scrape, returns its metric families.
DATABASE_GAUGES: dict[str, Callable[[], Iterable[Metric]]] = {}


def add_database_gauges(name: str, read: Callable[[], Iterable[Metric]]) -> None:
    DATABASE_GAUGES[name] = read


class ThisProcessCollector:
    """The values this process counted (single-process mode: ``runserver``, one gunicorn worker)."""

    def collect(self):
        yield from metrics.REGISTRY.collect()


class DatabaseCollector:
    """Values whose truth is the database, read once per scrape: all of them, or (the database not answering)
    none but ``crm_sync_database_up`` 0, so the counters still get out."""

    def collect(self):
        try:
            families = [family for read in DATABASE_GAUGES.values() for family in read()]
        except DatabaseError:
            yield GaugeMetricFamily("crm_sync_database_up", "Whether the scrape could read the database.", value=0)
            return
        yield GaugeMetricFamily("crm_sync_database_up", "Whether the scrape could read the database.", value=1)
        yield from families


def scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if directory := settings.PROMETHEUS_MULTIPROC_DIR or shared_counters.chosen_directory:
        MultiProcessCollector(registry, path=directory)
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
    if not settings.PROMETHEUS_MULTIPROC_DIR and shared_counters.unshared_reason:
        # One process's share would read as the whole and jump with whichever process answers: no numbers.
        return JsonResponse(
            {"error": f"counters cannot be added up across this server's processes: "
                      f"{shared_counters.unshared_reason}; set PROMETHEUS_MULTIPROC_DIR (docs/operations.md)"},
            status=503,
        )  # fmt: skip
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
