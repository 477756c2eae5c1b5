"""The few statements every webhook delivery runs, built once per model and column set.

The ORM compiles a statement anew on every call; on the delivery path that compilation was most of the
Python time of a request (docs/performance.md). These helpers write the same SQL the ORM would, from the
model's own metadata, cache it, and convert values both ways with each field's own conversions, so the
rows read and written are exactly what ``save()`` and a queryset would give. Only ``insert_row`` sends
``pre_save``/``post_save`` (it writes django-tasks-db's row, which has a receiver); the others send no model
signals (no model they are used on has receivers). Everything else keeps using the ORM.
"""

from functools import cache

from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_save, pre_save


def get_row(model: type[Model], *, for_update: bool = False, **unique_key):
    """The instance whose ``unique_key`` fields (a primary or unique key) equal the values given, or None.

    ``for_update`` locks the row (``SELECT … FOR UPDATE``) where the database supports it."""
    meta = model._meta
    names = tuple(unique_key)
    params = [_field(meta, name).get_db_prep_value(value, connection) for name, value in unique_key.items()]
    with connection.cursor() as cursor:
        cursor.execute(_select_sql(connection.vendor, model, names, for_update), params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = [
        _convert(value, converters, column) if converters else value
        for value, (column, converters) in zip(row, _readers(connection.vendor, model), strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in meta.concrete_fields], values)


def update_row(instance: Model, field_names) -> None:
    """``instance.save(update_fields=field_names)``: one UPDATE by primary key, ``auto_now`` fields
    refreshed when named. ``field_names`` None writes every column, as a plain ``save()`` does."""
    meta = type(instance)._meta
    if field_names is None:
        fields = [field for field in meta.concrete_fields if not field.primary_key]
    else:
        fields = [meta.get_field(name) for name in field_names]
    params = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in fields]
    params.append(meta.pk.get_db_prep_value(instance.pk, connection))
    names = tuple(field.name for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(connection.vendor, type(instance), names), params)


def insert_row_unless_exists(instance: Model) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING pk``: False when a row with one of the instance's unique
    keys exists already (no error, so no savepoint is needed around it); True, with the new primary key set
    on the instance, when it was inserted."""
    fields = _inserted_fields(type(instance))
    params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor, type(instance), unless_exists=True), params)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk, instance._state.adding, instance._state.db = row[0], False, connection.alias
    return True


def insert_row(instance: Model) -> None:
    """``instance.save(force_insert=True)`` for a model with no parents: ``pre_save``, one INSERT (the
    primary key returned when the database assigns it), ``post_save``."""
    model, meta = type(instance), type(instance)._meta
    pre_save.send(sender=model, instance=instance, raw=False, using=connection.alias, update_fields=None)
    fields = _inserted_fields(model)
    params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor, model, unless_exists=False), params)
        if meta.pk.db_returning:
            instance.pk = cursor.fetchone()[0]
    instance._state.adding, instance._state.db = False, connection.alias
    post_save.send(sender=model, instance=instance, created=True, update_fields=None, raw=False, using=connection.alias)


@cache
def _inserted_fields(model: type[Model]) -> tuple:
    """Every column, but a primary key the database assigns (``AutoField``)."""
    return tuple(field for field in model._meta.concrete_fields if not (field.primary_key and field.db_returning))


@cache
def _insert_sql(vendor: str, model: type[Model], *, unless_exists: bool) -> str:
    """``INSERT`` of every inserted column, the primary key returned when the database assigns it;
    ``unless_exists`` adds ``ON CONFLICT DO NOTHING`` and always returns the key (no row: a conflict)."""
    meta, quote = model._meta, connection.ops.quote_name
    fields = _inserted_fields(model)
    columns, placeholders = ", ".join(quote(field.column) for field in fields), ", ".join(["%s"] * len(fields))
    conflict = " ON CONFLICT DO NOTHING" if unless_exists else ""
    returning = f" RETURNING {quote(meta.pk.column)}" if unless_exists or meta.pk.db_returning else ""
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}){conflict}{returning}"  # noqa: S608


@cache
def _select_sql(vendor: str, model: type[Model], key: tuple[str, ...], for_update: bool) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in meta.concrete_fields)
    conditions = " AND ".join(f"{quote(_field(meta, name).column)} = %s" for name in key)
    lock = " FOR UPDATE" if for_update and connection.features.has_select_for_update else ""
    return f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {conditions}{lock}"  # noqa: S608


@cache
def _update_sql(vendor: str, model: type[Model], names: tuple[str, ...]) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608


@cache
def _readers(vendor: str, model: type[Model]) -> tuple:
    """Per column: the column expression and the converters the ORM would apply to the value read (JSON decoding,
    SQLite's datetimes, …)."""
    meta = model._meta
    readers = []
    for field in meta.concrete_fields:
        column = field.get_col(meta.db_table)
        readers.append((column, connection.ops.get_db_converters(column) + field.get_db_converters(connection)))
    return tuple(readers)


def _field(meta, name: str):
    return meta.pk if name == "pk" else meta.get_field(name)


def _convert(value, converters, column):
    for converter in converters:
        value = converter(value, column, connection)
    return value
