"""A column's distinct values without reading every row.

On PostgreSQL ``SELECT DISTINCT`` reads every row of the table; a recursive query that skips through the
column's index from one value to the next ("loose index scan") makes one index probe per distinct value,
which for a few statuses over a million contacts is the difference between a page and a pause
(docs/performance.md). Raw SQL: the ORM cannot write a recursive query. Names come from the model's own
metadata and no value from outside reaches the SQL.
"""

from django.db import connection
from django.db.models import Model


def distinct_column_values(model: type[Model], field_name: str) -> list:
    """The distinct values of ``model``'s indexed column, in order; a nullable column (or another database)
    takes the ORM's ``DISTINCT``."""
    field = model._meta.get_field(field_name)
    if connection.vendor != "postgresql" or field.null:
        return list(model._default_manager.order_by(field_name).values_list(field_name, flat=True).distinct())
    quote = connection.ops.quote_name
    column, table = quote(field.column), quote(model._meta.db_table)
    first = f"SELECT {column} FROM {table} ORDER BY {column} LIMIT 1"  # noqa: S608
    after = f"SELECT {column} FROM {table} WHERE {column} > skip.value ORDER BY {column} LIMIT 1"  # noqa: S608
    recursive = f"WITH RECURSIVE skip(value) AS (({first}) UNION ALL SELECT ({after}) FROM skip"  # noqa: S608
    sql = recursive + " WHERE skip.value IS NOT NULL) SELECT value FROM skip WHERE value IS NOT NULL"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]
