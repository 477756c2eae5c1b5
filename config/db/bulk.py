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

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


def bulk_update_by_pk(objs: Sequence[Model], field_names: Sequence[str]) -> None:
    if not objs:
        return
    model = type(objs[0])
    # This thread's connection itself, not the ``connection`` proxy, each of whose uses is a context lookup.
    db = connections[DEFAULT_DB_ALIAS]
    fields = fields_of(model, tuple(field_names))
    if len(objs) == 1:
        # One row (an inline delivery's contact, its event's outcome): no columns to build and transpose.
        obj = objs[0]
        # pre_save first (auto_now moves, as in save()), then the conversion save() would apply.
        row = [field.get_db_prep_save(field.pre_save(obj, False), db) for field in fields]
        sql = _update_one_sql(model, tuple(field_names))
        with statement_cursor(db) as cursor:
            cursor.execute(sql, [*row, obj.pk])
        return
    values = [[field.pre_save(obj, False) for obj in objs] for field in fields]  # auto_now moves, as in save()
    columns = [
        [field.get_db_prep_save(value, db) for value in column] for field, column in zip(fields, values, strict=True)
    ]
    if db.vendor != "postgresql":
        # SQLite: the one-row UPDATE by primary key, run for each row in one call. The ORM's ``bulk_update``
        # compiled its CASE expressions for most of an inline delivery's time here (docs/performance.md).
        rows = [[*row, obj.pk] for obj, row in zip(objs, zip(*columns, strict=True), strict=True)]
        with db.cursor() as cursor:
            cursor.executemany(_update_one_sql(model, tuple(field_names)), rows)
        return
    with binary_parameters_cursor() as cursor:
        cursor.execute(_update_sql(model, tuple(field_names)), [[obj.pk for obj in objs], *columns])


@cache
def fields_of(model: type[Model], names: tuple[str, ...]) -> tuple:
    return tuple(model._meta.get_field(name) for name in names)


def _update_sql(model: type[Model], field_names: tuple[str, ...]) -> str:
    """Every value an array parameter, bound as psycopg chooses (the values are Django's prepared ones)."""
    return update_prepared_by_pk_sql(model, field_names, (), (), placeholder="%s")


@cache
def _update_one_sql(model: type[Model], field_names: tuple[str, ...]) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in field_names)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608


def statement_cursor(db):
    """The cursor one of our statements runs on, for ``db`` (this thread's connection): bound server-side on
    PostgreSQL (``binary_parameters_cursor``: no quoting in Python, prepared once per connection), Django's
    own elsewhere."""
    return binary_parameters_cursor() if db.vendor == "postgresql" else db.cursor()


def binary_parameters_cursor():
    """A psycopg cursor with server-side binding on Django's own connection, so inside the current
    transaction, and wrapped as Django wraps its cursors (health check, execute wrappers, query logging in
    tests and DEBUG). Django's cursors bind client-side: every value, arrays included, is quoted into the
    SQL text in Python, which for a batch of payloads is a literal of hundreds of kilobytes to build and to
    parse, and for one delivery's 24-column row a large share of its Python time. Bound server-side, a
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


def update_prepared_by_pk(
    model: type[Model],
    pks: Sequence,
    columns: dict[str, Sequence],
    *,
    same_for_all: dict[str, object] | None = None,
    json_as_text: Sequence[str] = (),
) -> None:
    """Write values already prepared for the database: ``columns`` maps a field name to one value per pk,
    ``same_for_all`` a field name to one value for every row. On PostgreSQL one UPDATE joined to the rows as
    binary arrays; fields in ``json_as_text`` travel as JSON text and are cast on the server (no wrapper per
    value in Python). Elsewhere one parameterized UPDATE per row (``executemany``)."""
    same_for_all = same_for_all or {}
    if not pks:
        return
    if connection.vendor == "postgresql":
        sql = update_prepared_by_pk_sql(model, tuple(columns), tuple(same_for_all), tuple(json_as_text))  # PostgreSQL
        with binary_parameters_cursor() as cursor:
            cursor.execute(sql, [*same_for_all.values(), list(pks), *(list(values) for values in columns.values())])
        return
    sql = _update_one_sql(model, (*columns, *same_for_all))
    rows = zip(*columns.values(), strict=True)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*row, *same_for_all.values(), pk) for row, pk in zip(rows, pks, strict=True)])


@cache
def update_prepared_by_pk_sql(
    model: type[Model],
    column_names: tuple[str, ...],
    same_for_all: tuple[str, ...],
    json_as_text: tuple[str, ...],
    *,
    placeholder: str = "%b",
) -> str:
    """PostgreSQL's statement for ``update_prepared_by_pk`` (and ``bulk_update_by_pk``); its parameters are
    the ``same_for_all`` values, the pks, then one array per column, each sent as ``placeholder`` says.
    Names come from the model's own metadata."""
    if connection.vendor != "postgresql":  # column types are the database's: never cache another's
        raise ValueError("the set-based UPDATE is PostgreSQL's")
    meta, quote = model._meta, connection.ops.quote_name
    fields = {name: meta.get_field(name) for name in (*column_names, *same_for_all)}
    column = {name: quote(field.column) for name, field in fields.items()}
    pk = quote(meta.pk.column)
    array_types = ["text" if name in json_as_text else fields[name].db_type(connection) for name in column_names]
    arrays = ", ".join(f"{placeholder}::{kind}[]" for kind in [meta.pk.db_type(connection), *array_types])
    assignments = [
        f"{column[name]} = batch.{column[name]}" + ("::jsonb" if name in json_as_text else "") for name in column_names
    ] + [f"{column[name]} = %s" for name in same_for_all]
    return (
        f"UPDATE {quote(meta.db_table)} AS target SET {', '.join(assignments)} "  # noqa: S608
        f"FROM unnest({arrays}) AS batch({pk}, {', '.join(column[name] for name in column_names)}) "
        f"WHERE target.{pk} = batch.{pk}"
    )
