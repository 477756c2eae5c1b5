"""One set-based UPDATE for many rows (PostgreSQL), where the ORM's ``bulk_update`` compiles badly.

``bulk_update`` writes one ``CASE WHEN pk = … THEN … END`` per row and per column: for a worker's batch of
100 contacts and their ~30 columns that is 3,000 expressions built in Python for every batch, and as many
comparisons per row for PostgreSQL. Here every column travels as one array parameter, joined to the table
by ``unnest`` (docs/performance.md). Values are converted by each field's own ``get_db_prep_save`` (after
``pre_save``, so ``auto_now`` fields move), exactly as ``save()`` would write them. On SQLite (development,
the embedded setup) it is one ``UPDATE … WHERE id = ?`` run for every row (``executemany``).
"""

from collections.abc import Sequence
from functools import cache

from django.db import connection
from django.db.models import Model


def bulk_update_by_pk(objs: Sequence[Model], field_names: Sequence[str]) -> None:
    if not objs:
        return
    model = type(objs[0])
    fields = [model._meta.get_field(name) for name in field_names]
    values = [[field.pre_save(obj, False) for obj in objs] for field in fields]  # auto_now moves, as in save()
    columns = [
        [field.get_db_prep_save(value, connection) for value in column]
        for field, column in zip(fields, values, strict=True)
    ]
    if connection.vendor != "postgresql":
        # SQLite: the one-row UPDATE by primary key, run for each row in one call. The ORM's ``bulk_update``
        # compiled its CASE expressions for most of an inline delivery's time here (docs/performance.md).
        rows = [[*row, obj.pk] for obj, row in zip(objs, zip(*columns, strict=True), strict=True)]
        with connection.cursor() as cursor:
            cursor.executemany(_update_one_sql(model, tuple(field_names)), rows)
        return
    with binary_parameters_cursor() as cursor:
        if len(objs) == 1:
            # One row (inline mode's batch of one): a plain UPDATE by primary key, no arrays to build.
            cursor.execute(_update_one_sql(model, tuple(field_names)), [*(column[0] for column in columns), objs[0].pk])
        else:
            cursor.execute(_update_sql(model, tuple(field_names)), [[obj.pk for obj in objs], *columns])


@cache
def _update_sql(model: type[Model], field_names: tuple[str, ...]) -> str:
    """Names come from the model's own metadata; every value is an array parameter."""
    meta, quote = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in field_names]
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in [meta.pk, *fields])
    names = ", ".join(quote(field.column) for field in [meta.pk, *fields])
    assignments = ", ".join(f"{quote(field.column)} = batch.{quote(field.column)}" for field in fields)
    return (
        f"UPDATE {quote(meta.db_table)} AS target SET {assignments} "  # noqa: S608
        f"FROM unnest({arrays}) AS batch({names}) WHERE target.{quote(meta.pk.column)} = batch.{quote(meta.pk.column)}"
    )


@cache
def _update_one_sql(model: type[Model], field_names: tuple[str, ...]) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in field_names)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608


def binary_parameters_cursor():
    """A psycopg cursor with server-side binding on Django's own connection, so inside the current
    transaction, and wrapped as Django wraps its cursors (health check, execute wrappers, query logging in
    tests and DEBUG). Django's cursors bind client-side: every value, arrays included, is quoted into the
    SQL text in Python, which for a batch of payloads is a literal of hundreds of kilobytes to build and to
    parse, and for one delivery's 24-column row is a quarter of its Python time. Bound server-side, a
    statement is also prepared once per connection (``DATABASE_PREPARED_STATEMENTS``). ``%b`` sends a
    parameter in binary."""
    import psycopg

    # What ``connection.cursor()`` does before it creates a cursor: a reused connection that died meanwhile
    # is replaced (CONN_HEALTH_CHECKS), once per request.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        cursor = psycopg.Cursor(connection.connection)
    return _statement_logging_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)


def _statement_logging_cursor(cursor):
    """Django's debug cursor (tests, DEBUG), logging each statement as written, placeholders and all: it
    would ask psycopg for the statement last sent, and of a prepared one psycopg keeps no text (None)."""
    return _statement_logging_wrapper()(cursor, connection)


@cache
def _statement_logging_wrapper():
    from django.db.backends.postgresql.base import CursorDebugWrapper
    from django.db.backends.utils import CursorWrapper

    class StatementLoggingCursor(CursorDebugWrapper):
        def execute(self, sql, params=None):
            with self.debug_sql(sql, params):
                return CursorWrapper.execute(self, sql, params)

        def executemany(self, sql, param_list):
            with self.debug_sql(sql, param_list, many=True):
                return CursorWrapper.executemany(self, sql, param_list)

    return StatementLoggingCursor
