"""What ``/metrics`` reads of the event table's upkeep, on PostgreSQL (added in ``WebhooksConfig.ready``).

The event log is also the queue: every event is inserted, then updated once applied, so each leaves a dead
row version behind that only VACUUM reclaims. Autovacuum does it in production (docs/production.md); what
to watch is that it keeps up: the table's dead row versions against its live ones, and the oldest open
transaction in the database, which holds back what any VACUUM may remove. Nothing on SQLite.

Read by config.db.table_upkeep, one statement per scrape.
"""

from prometheus_client.core import GaugeMetricFamily

from config.db.table_upkeep import table_upkeep
from webhooks.models import WebhookEvent


def event_table_gauges() -> list[GaugeMetricFamily]:
    upkeep = table_upkeep(WebhookEvent)
    if upkeep is None:
        return []
    live, dead, oldest = upkeep
    return [
        GaugeMetricFamily(
            "crm_sync_webhook_event_table_dead_rows",
            "Dead row versions in the event table (PostgreSQL's estimate), which only VACUUM reclaims.",
            value=dead,
        ),
        GaugeMetricFamily(
            "crm_sync_webhook_event_table_live_rows",
            "Live rows in the event table (PostgreSQL's estimate).",
            value=live,
        ),
        GaugeMetricFamily(
            "crm_sync_database_oldest_transaction_age_seconds",
            "Age of the oldest open transaction in the database (0 when none): VACUUM keeps what it may see.",
            value=float(oldest),
        ),
    ]
