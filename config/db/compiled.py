"""A read the ORM compiles once per process instead of once per call.

Compiling even a simple ``filter(...)`` query costs the ORM tens of microseconds; on a path that runs it for
every request (an inline delivery's read of its one contact) that was a large share of the request's CPU
(docs/performance.md). Here the ORM compiles the query once, with markers for its parameters, and the SQL
it wrote is reused with ``Manager.raw``: the statement is the ORM's own, only its compiling is saved."""

import functools

from django.db import connection
from django.db.models import Model, Q


@functools.cache
def compiled_lookup_sql(model: type[Model], vendor: str, fields: tuple[str, ...], *, for_update: bool) -> str:
    """``SELECT … [FOR UPDATE]`` of ``model`` rows whose ``fields`` equal the parameters, given in that order,
    as the ORM writes it for ``vendor``."""
    markers = tuple(f"\x00{name}" for name in fields)
    query = model._default_manager.filter(*(Q(**{name: marker}) for name, marker in zip(fields, markers, strict=True)))
    if for_update:
        query = query.select_for_update()
    sql, params = query.query.get_compiler(connection=connection).as_sql()
    if tuple(params) != markers:  # the parameters' order is what the callers rely on
        raise RuntimeError(f"unexpected parameters for {model.__name__}'s compiled read: {params!r}")
    return sql


def rows_by_fields(model: type[Model], fields: tuple[str, ...], values: tuple, *, for_update: bool = False):
    """The rows of ``model`` whose ``fields`` equal ``values``, read by the SQL compiled once."""
    sql = compiled_lookup_sql(model, connection.vendor, fields, for_update=for_update)
    return model._default_manager.raw(sql, values)
