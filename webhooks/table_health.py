"""What ``/metrics`` reads of the event table's upkeep, on PostgreSQL (added in ``WebhooksConfig.ready``).

The event log is also the queue: every event is inserted, then updated once applied, so each leaves a dead
row version behind that only VACUUM reclaims. Autovacuum does it in production (docs/production.md); what
to watch is that it keeps up: the table's dead row versions against its live ones, and the oldest open
transaction in the database, which holds back what any VACUUM may remove. Nothing on SQLite.

Raw SQL: the statistics views are not models. One statement per scrape.
"""

from django.db import connection
from prometheus_client.core import GaugeMetricFamily

from webhooks.models import WebhookEvent

# pg_stat_activity shows another role's transactions only to a superuser or a member of pg_monitor
# (docs/production.md); otherwise the age is that of the app's own role's transactions.
UPKEEP_SQL = """
SELECT coalesce(stats.n_live_tup, 0), coalesce(stats.n_dead_tup, 0),
       (SELECT coalesce(extract(epoch FROM max(clock_timestamp() - activity.xact_start)), 0)
          FROM pg_stat_activity AS activity
         WHERE activity.datname = current_database() AND activity.pid <> pg_backend_pid())
  FROM (SELECT 1) AS one
  LEFT JOIN pg_stat_user_tables AS stats ON stats.relid = to_regclass(%s)
"""


def event_table_gauges() -> list[GaugeMetricFamily]:
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(UPKEEP_SQL, [connection.ops.quote_name(WebhookEvent._meta.db_table)])
        live, dead, oldest = cursor.fetchone()
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
