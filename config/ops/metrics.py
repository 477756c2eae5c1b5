"""The Prometheus metrics every process counts, and the small functions the code calls to count.

Counters and histograms live in the process that counted them. Under gunicorn's several workers (or
several ``webhook_worker`` processes) each process would answer a scrape with its own share only, so
with ``PROMETHEUS_MULTIPROC_DIR`` set (before the process starts: prometheus-client reads it on import)
every process writes its values to files in that directory and ``/metrics`` adds them up
(prometheus-client's multiprocess mode; docs/operations.md). Values whose truth is the database (the
pending events, the last verification of the erasure log) are not counted here but read at scrape time.

Labels are bounded: providers come from settings, outcomes and statuses from the fixed lists below.
This module imports no app; the apps import it.
"""

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

# The *_created samples say when a process started counting: noise here, and absent in multiprocess mode.
disable_created_metrics()

# What a delivery's answer was, as counted by the webhook view (the HTTP contract's rows).
DELIVERY_OUTCOMES = (
    "accepted",  # 200, stored for the first time
    "duplicate",  # 200, seen before
    "rejected_signature",  # 401
    "rejected_account",  # 403
    "invalid",  # 400
    "too_large",  # 413
    "unavailable",  # 503: provider not configured, or the event could not be stored
)

# Our own registry (not the library's global one): in multiprocess mode the scrape reads the files instead,
# and tests can read exactly what the application counted.
REGISTRY = CollectorRegistry(auto_describe=True)

DELIVERIES = Counter(
    "crm_sync_webhook_deliveries",
    "Webhook deliveries answered, by provider and outcome.",
    ["provider", "outcome"],
    registry=REGISTRY,
)
EVENTS_PROCESSED = Counter(
    "crm_sync_webhook_events_processed",
    "Webhook events whose outcome was written, by provider and status (processed, ignored, failed).",
    ["provider", "status"],
    registry=REGISTRY,
)
ERASURES = Counter(
    "crm_sync_erasures",
    "Contacts erased (LGPD), by provider, counted once the erasure committed.",
    ["provider"],
    registry=REGISTRY,
)
# What one try of an outbound message came to: delivered (a 2xx), retried later, or failed (given up on).
OUTBOUND_OUTCOMES = ("delivered", "retried", "failed")
OUTBOUND_DELIVERIES = Counter(
    "crm_sync_outbound_deliveries",
    "Tries of outbound messages to downstream systems, by system and outcome (delivered, retried, failed).",
    ["system", "outcome"],
    registry=REGISTRY,
)
WORKER_BATCH_SECONDS = Histogram(
    "crm_sync_webhook_worker_batch_duration_seconds",
    "Time a webhook worker took to apply one batch of events.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
WORKER_BATCH_SIZE = Histogram(
    "crm_sync_webhook_worker_batch_size",
    "Events in one batch a webhook worker applied.",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
    registry=REGISTRY,
)


def record_delivery(provider: str, outcome: str) -> None:
    if outcome not in DELIVERY_OUTCOMES:
        raise ValueError(f"unknown delivery outcome {outcome!r}")
    DELIVERIES.labels(provider=provider, outcome=outcome).inc()


def record_processed(provider: str, status: str, count: int = 1) -> None:
    EVENTS_PROCESSED.labels(provider=provider, status=status).inc(count)


def record_erasure(provider: str) -> None:
    ERASURES.labels(provider=provider).inc()


def record_outbound_try(system: str, outcome: str) -> None:
    if outcome not in OUTBOUND_OUTCOMES:
        raise ValueError(f"unknown outbound outcome {outcome!r}")
    OUTBOUND_DELIVERIES.labels(system=system, outcome=outcome).inc()


def observe_worker_batch(size: int, seconds: float) -> None:
    WORKER_BATCH_SIZE.observe(size)
    WORKER_BATCH_SECONDS.observe(seconds)
