"""The Django and psycopg internals that config.db relies on, pinned: when an upgrade moves one, this fails
here, by name, instead of a worker failing in production.

``binary_parameters_cursor`` builds a psycopg cursor on Django's own connection the way
``connection.cursor()`` does, and wraps it in Django's debug cursor so tests still see its statements; the
worker waits for NOTIFY with psycopg's ``notifies``; the app's PostgreSQL engine reads a connection's state
and socket before Django's ``SELECT 1``; the ingest INSERT quotes its defaults with a schema editor it never
enters; a read compiled once comes from the query's own compiler."""

import inspect
from importlib.metadata import version

import psycopg
import pytest
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.test.utils import CaptureQueriesContext
from django.utils.functional import cached_property

from config.db.bulk import binary_parameters_cursor

# The releases these internals were read from; an upgrade re-reads them (config/db/bulk.py) and moves this.
CHECKED_RELEASES = {"django": "5.2.", "psycopg": "3.3."}


@pytest.mark.parametrize("package", sorted(CHECKED_RELEASES))
def test_the_installed_release_is_the_one_checked(package):
    assert version(package).startswith(CHECKED_RELEASES[package]), (
        f"{package} {version(package)}: re-read what config/db/bulk.py, config/db/notifications.py and "
        "config/db/postgresql/ use of it, "
        "then move CHECKED_RELEASES"
    )


def test_the_connection_steps_a_cursor_takes_are_there():
    for name in ("close_if_health_check_failed", "ensure_connection", "validate_thread_sharing", "make_cursor"):
        assert callable(getattr(BaseDatabaseWrapper, name)), name
    assert isinstance(inspect.getattr_static(BaseDatabaseWrapper, "queries_logged"), property)
    assert isinstance(inspect.getattr_static(BaseDatabaseWrapper, "wrap_database_errors"), cached_property)


def test_the_debug_cursor_logs_through_debug_sql():
    parameters = inspect.signature(CursorDebugWrapper.debug_sql).parameters
    assert list(parameters)[:3] == ["self", "sql", "params"] and "many" in parameters
    assert list(inspect.signature(CursorWrapper.execute).parameters) == ["self", "sql", "params"]


def test_the_postgresql_debug_cursor_and_the_quoting_and_compiling_used_are_there():
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.backends.postgresql.base import CursorDebugWrapper as PostgresDebugCursor
    from django.db.models.sql import Query

    assert issubclass(PostgresDebugCursor, CursorDebugWrapper)  # what bulk's statement-logging cursor subclasses
    assert "debug_sql" in dir(PostgresDebugCursor)
    assert list(inspect.signature(BaseDatabaseSchemaEditor.quote_value).parameters) == ["self", "value"]
    assert list(inspect.signature(Query.get_compiler).parameters)[:3] == ["self", "using", "connection"]


def test_the_health_check_asks_is_usable_and_psycopg_tells_a_connections_state():
    # config/db/postgresql/ overrides is_usable, which Django's per-request check calls, and reads psycopg's
    # connection state and socket without a round trip.
    assert "self.is_usable()" in inspect.getsource(BaseDatabaseWrapper.close_if_health_check_failed)
    assert callable(psycopg.Connection.fileno)
    assert isinstance(inspect.getattr_static(psycopg.Connection, "closed"), property)
    for name in ("status", "transaction_status"):
        assert isinstance(inspect.getattr_static(psycopg.ConnectionInfo, name), property), name


def test_psycopg_waits_for_notifications_with_a_timeout():
    parameters = inspect.signature(psycopg.Connection.notifies).parameters
    assert {"timeout", "stop_after"} <= set(parameters)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_binary_parameter_round_trips_and_its_statement_is_logged():
    with CaptureQueriesContext(connection) as queries, binary_parameters_cursor() as cursor:
        cursor.execute("SELECT %b::bytea, %s::bigint[]", [b"\x00\xff", [1, 2]])
        assert cursor.fetchone() == (b"\x00\xff", [1, 2])
    assert queries.captured_queries[-1]["sql"] == "SELECT %b::bytea, %s::bigint[]"


def test_a_compiled_read_finds_its_columns_and_converters_on_the_compiler():
    # config/db/compiled.py: the compiler's ``select`` (expression, SQL, alias), each a ``Col`` with its
    # ``target`` field, and ``get_converters`` by position.
    from django.db.models.expressions import Col

    from contacts.models import Contact

    compiler = Contact.objects.filter(pk=1).query.get_compiler(connection=connection)
    compiler.as_sql()
    expressions = [expression for expression, _sql, _alias in compiler.select]
    assert expressions and all(isinstance(expression, Col) for expression in expressions)
    assert {expression.target.attname for expression in expressions} >= {"id", "field_versions"}
    converters = compiler.get_converters(expressions)
    assert isinstance(converters, dict)
    assert all(isinstance(position, int) and len(pair) == 2 for position, pair in converters.items())
