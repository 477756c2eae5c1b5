"""What PostgreSQL's statistics say of a table's upkeep: its live and dead row versions (only VACUUM
reclaims the dead) and the age of the oldest open transaction in the database, which holds back what any
VACUUM may remove. Raw SQL: the statistics views are not models. One statement; nothing on SQLite.

``pg_stat_activity`` shows another role's transactions only to a superuser or a member of ``pg_monitor``
(docs/production.md); otherwise the age is that of the app's own role's transactions."""

from typing import NamedTuple

from django.db import connection
from django.db.models import Model

UPKEEP_SQL = """
SELECT coalesce(stats.n_live_tup, 0), coalesce(stats.n_dead_tup, 0),
       (SELECT coalesce(extract(epoch FROM max(clock_timestamp() - activity.xact_start)), 0)
          FROM pg_stat_activity AS activity
         WHERE activity.datname = current_database() AND activity.pid <> pg_backend_pid())
  FROM (SELECT 1) AS one
  LEFT JOIN pg_stat_user_tables AS stats ON stats.relid = to_regclass(%s)
"""


class TableUpkeep(NamedTuple):
    live_rows: int
    dead_rows: int
    oldest_transaction_seconds: float


def table_upkeep(model: type[Model]) -> TableUpkeep | None:
    """The upkeep figures of ``model``'s table; None where there are none (not PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(UPKEEP_SQL, [connection.ops.quote_name(model._meta.db_table)])
        live, dead, oldest = cursor.fetchone()
    return TableUpkeep(live, dead, float(oldest))
