"""A read the ORM compiles once per process instead of once per call.

Compiling even a simple ``filter(...)`` query costs the ORM tens of microseconds; on a path that runs it for
every request (an inline delivery's read of its one contact) that was a large share of the request's CPU
(docs/performance.md). Here the ORM compiles the query once, with markers for its parameters; the SQL it
wrote, the order of its columns and the converters it would apply to them are kept, and each call runs that
SQL on a cursor and builds the instances with ``Model.from_db``, as the ORM's own iteration does. A
``RawQuerySet`` would work out the columns, their fields and their converters again at every call."""

import functools
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, Q

from config.db.bulk import statement_cursor


@dataclass(frozen=True)
class CompiledRead:
    sql: str
    attnames: tuple[str, ...]  # the columns' fields, in the order the SELECT lists them
    # (position, the ORM's converters for it, the column expression they are given), as the compiler has them.
    converters: tuple[tuple[int, tuple, object], ...]

    def instance(self, model: type[Model], db, row) -> Model:
        values = list(row)
        for position, converters, expression in self.converters:
            value = values[position]
            for converter in converters:
                value = converter(value, expression, db)
            values[position] = value
        return model.from_db(db.alias, self.attnames, values)


@functools.cache
def compiled_lookup(model: type[Model], alias: str, vendor: str, fields: tuple[str, ...], *, for_update: bool):
    """``SELECT … [FOR UPDATE]`` of ``model`` rows whose ``fields`` equal the parameters, given in that order,
    as the ORM writes it for ``vendor``, with what the ORM needs to turn a row into an instance. Keyed by
    the alias too: a backend's converters are its connection's (SQLite's datetimes take its time zone)."""
    connection = connections[alias]
    markers = tuple(f"\x00{name}" for name in fields)
    query = model._default_manager.filter(*(Q(**{name: marker}) for name, marker in zip(fields, markers, strict=True)))
    if for_update:
        query = query.select_for_update()
    compiler = query.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    if tuple(params) != markers:  # the parameters' order is what the callers rely on
        raise RuntimeError(f"unexpected parameters for {model.__name__}'s compiled read: {params!r}")
    columns = [expression for expression, _sql, _alias in compiler.select]
    attnames = tuple(column.target.attname for column in columns)  # each a plain column (``Col``)
    if sorted(attnames) != sorted(field.attname for field in model._meta.concrete_fields):
        raise RuntimeError(f"{model.__name__}'s compiled read does not select each of its columns once")
    converters = tuple(
        (position, tuple(converters), expression)
        for position, (converters, expression) in compiler.get_converters(columns).items()
    )
    return CompiledRead(sql=sql, attnames=attnames, converters=converters)


def rows_by_fields(model: type[Model], fields: tuple[str, ...], values: tuple, *, for_update: bool = False) -> list:
    """The rows of ``model`` whose ``fields`` equal ``values``, read by the SQL compiled once: the same
    instances the ORM's query would build (``from_db``: no deferred field, ``_state`` of a read row)."""
    # This thread's connection itself, not the ``connection`` proxy, each of whose uses is a context lookup.
    db = connections[DEFAULT_DB_ALIAS]
    read = compiled_lookup(model, db.alias, db.vendor, fields, for_update=for_update)
    with statement_cursor(db) as cursor:
        cursor.execute(read.sql, values)
        rows = cursor.fetchall()
    return [read.instance(model, db, row) for row in rows]
