"""What ``/metrics`` reads of the erasure log at each scrape (``config.ops.metrics_view``; added in
``ContactsConfig.ready``): the last ``verify_erasure_log`` run; the erasures whose downstream systems are
not all told in time."""

from prometheus_client.core import GaugeMetricFamily

from contacts.selectors import last_erasure_log_verification
from contacts.services.propagation import overdue_erasures


def erasure_log_gauges() -> list[GaugeMetricFamily]:
    verification = last_erasure_log_verification()
    if verification is None:
        return []  # never verified: the alert on the last verification's age fires (absent)
    return [
        GaugeMetricFamily(
            "crm_sync_erasure_log_verification_ok",
            "1 when the last verify_erasure_log run found the chain intact, 0 when it found it broken.",
            value=int(verification.ok),
        ),
        GaugeMetricFamily(
            "crm_sync_erasure_log_verification_timestamp_seconds",
            "When verify_erasure_log last ran (Unix time).",
            value=verification.verified_at.timestamp(),
        ),
        GaugeMetricFamily(
            "crm_sync_erasure_log_records",
            "Records in the erasure log's chain as the last verification counted them.",
            value=verification.records,
        ),
    ]


def propagation_gauges() -> list[GaugeMetricFamily]:
    count, _oldest = overdue_erasures(limit=0)
    return [
        GaugeMetricFamily(
            "crm_sync_erasure_notices_overdue",
            "Erasures not yet delivered to, or confirmed by, every downstream system after ERASURE_PROPAGATION_HOURS.",
            value=count,
        )
    ]
