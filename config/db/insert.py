"""One row inserted by one prepared statement: ``INSERT … ON CONFLICT DO NOTHING RETURNING id``, optionally
only if no row of another table matches (``INSERT … SELECT … WHERE NOT EXISTS``), in one statement that
needs no transaction of its own.

The statement is built once per model, vendor and set of columns from the models' own fields, instead of
being compiled by the ORM for every row: for the webhook endpoint's 24-column insert and its subquery that
compiling was the largest cost of ingest (docs/performance.md). Values go through each field's own
conversion, as with ``save()``; the columns every new row starts with the same (``initial_columns``) are
written into the statement once, as the database's schema editor quotes them (as Django writes a column's
default in DDL), rather than converted and sent again with every row. Raw SQL: the ORM cannot say
``ON CONFLICT DO NOTHING RETURNING`` nor the ``NOT EXISTS`` guard in one statement.
"""

import functools

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import AutoField, Model

from config.db.bulk import statement_cursor


@functools.cache
def initial_columns(model: type[Model], given: tuple[str, ...]) -> dict:
    """Every column not in ``given``, at its model default. A callable default is taken only when it returns
    the same each time (a new empty list): one that differs per call (a time) must be given, or the first
    value would be written into the statement for good."""
    defaults = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in given:
            continue
        if field.has_default() and callable(field.default) and field.default not in (list, dict):
            raise TypeError(f"the insert must set {field.name}: its default differs at every call")
        defaults[field.name] = field.get_default()
    return defaults


@functools.cache
def insert_sql(
    model: type[Model],
    vendor: str,
    columns: tuple[str, ...],
    *,
    conflict: tuple[str, ...],
    unless_in: type[Model] | None = None,
    unless_fields: tuple[str, ...] = (),
) -> str:
    """The statement for ``vendor``'s quoting, ``columns`` as parameters and every other column at its
    default; a row conflicting on ``conflict`` is not inserted (none given: the conflict raises).
    ``unless_in``: the row is inserted only if no row of that model has the ``unless_fields`` values, sent
    as the last parameters (the database types each value by its column, as in ``VALUES``)."""
    if (unless_in is None) != (not unless_fields):
        raise ValueError("unless_in and unless_fields go together")
    quote, meta = connection.ops.quote_name, model._meta
    initial = initial_columns(model, columns)
    # Only its quoting is used: entered, a schema editor would start DDL work (on SQLite, end FK checks).
    editor = connection.schema_editor()
    connection.ensure_connection()  # PostgreSQL's quoting asks the connection (its encoding)
    literals = [
        editor.quote_value(meta.get_field(name).get_db_prep_save(value, connection)) for name, value in initial.items()
    ]
    if any("%" in literal for literal in literals):  # the driver would read it as a placeholder
        raise ValueError("a default with '%' cannot be written into the statement")
    quoted = [quote(meta.get_field(name).column) for name in (*columns, *initial)]
    values = ", ".join(["%s"] * len(columns) + literals)
    if unless_in is not None:
        matches = " AND ".join(f"{quote(unless_in._meta.get_field(name).column)} = %s" for name in unless_fields)
        guard = f"SELECT 1 FROM {quote(unless_in._meta.db_table)} WHERE {matches}"  # noqa: S608 (names only)
        source = f"SELECT {values} WHERE NOT EXISTS ({guard})"
    else:
        source = f"VALUES ({values})"
    target = ", ".join(quote(meta.get_field(name).column) for name in conflict)
    on_conflict = f"ON CONFLICT ({target}) DO NOTHING " if conflict else ""
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quoted)}) {source} "  # noqa: S608
        f"{on_conflict}RETURNING {quote(meta.pk.column)}"
    )


def prepared_values(model: type[Model], values: dict) -> dict:
    """``values`` converted for the database by their fields (``get_db_prep_save``), as ``insert_returning_pk``
    takes them in ``prepared``: converted ahead, outside the transaction that inserts them."""
    # This thread's connection itself, not the ``connection`` proxy, each of whose uses is a context lookup.
    db = connections[DEFAULT_DB_ALIAS]
    return {name: field_of(model, name).get_db_prep_save(value, db) for name, value in values.items()}


def insert_returning_pk(
    model: type[Model],
    values: dict,
    *,
    conflict: tuple[str, ...],
    unless_in: type[Model] | None = None,
    unless_fields: tuple[str, ...] = (),
    prepared: dict | None = None,
) -> int | None:
    """Insert ``values`` and the ``prepared`` ones (``prepared_values``); the new row's pk, or None when it
    conflicted (or, with ``unless_in``, was not inserted because a matching row exists there)."""
    db = connections[DEFAULT_DB_ALIAS]
    columns = {**(prepared or {}), **prepared_values(model, values)}
    params = list(columns.values())
    params += [columns[name] for name in unless_fields] if unless_in is not None else []
    guard = {"unless_in": unless_in, "unless_fields": unless_fields}
    sql = insert_sql(model, db.vendor, tuple(columns), conflict=conflict, **guard)
    with statement_cursor(db) as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchone()
    return inserted[0] if inserted else None


@functools.cache
def field_of(model: type[Model], name: str):
    return model._meta.get_field(name)


def insert_new_instance(obj: Model) -> None:
    """``bulk_create([obj])`` for one new row (its key unset), by a statement built once per model instead of
    the ORM's compiling at every call: every concrete column but the key, each value as the ORM's INSERT
    takes it (the field's ``pre_save`` for an addition, so auto_now and auto_now_add move, then its
    ``get_db_prep_save``). Like ``bulk_create``: no ``save()``, no signals; the key comes back (``RETURNING``)
    and the instance is a stored row from then on (``_state``); a conflict raises IntegrityError."""
    model = type(obj)
    if obj.pk is not None:
        raise ValueError(f"a new {model.__name__} has no key yet: {obj.pk!r}")
    db = connections[DEFAULT_DB_ALIAS]
    fields = inserted_fields(model)
    params = [field.get_db_prep_save(field.pre_save(obj, True), db) for field in fields]
    sql = insert_sql(model, db.vendor, tuple(field.name for field in fields), conflict=())
    with statement_cursor(db) as cursor:
        cursor.execute(sql, params)
        (obj.pk,) = cursor.fetchone()
    obj._state.adding = False
    obj._state.db = db.alias


@functools.cache
def inserted_fields(model: type[Model]) -> tuple:
    """What ``bulk_create`` writes of a row whose key the database assigns: every stored column but the key."""
    fields = model._meta.concrete_fields
    # Only the key comes back: a column the database fills in (db_default, generated) would be left stale.
    if not isinstance(model._meta.pk, AutoField) or any(field.has_db_default() or field.generated for field in fields):
        raise TypeError(f"{model.__name__}: only a key assigned by the database is read back")
    return tuple(field for field in fields if not field.primary_key)
