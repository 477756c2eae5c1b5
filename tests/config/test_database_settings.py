"""Persistent database connections: CONN_MAX_AGE read from the environment, health checks always on."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

READ_DATABASE_SETTINGS = (
    "from django.conf import settings; db = settings.DATABASES['default']; "
    "print(db['CONN_MAX_AGE'], db['CONN_HEALTH_CHECKS'])"
)


# The variables these tests set: never inherited from the environment the suite runs in.
CONTROLLED = ("CONN_MAX_AGE", "DATABASE_PREPARED_STATEMENTS")


def database_settings(module: str, read: str = READ_DATABASE_SETTINGS, **environment: str) -> list[str]:
    """What ``read`` prints under settings ``module`` with ``environment``, in a fresh interpreter."""
    env = {key: value for key, value in os.environ.items() if key not in CONTROLLED}
    env.update(DJANGO_SETTINGS_MODULE=module, SECRET_KEY="k" * 60, **environment)
    result = subprocess.run(
        [sys.executable, "-c", read],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return result.stdout.split()


@pytest.mark.parametrize(
    ("module", "environment", "expected"),
    [
        ("config.settings.local", {}, ["0", "True"]),
        ("config.settings.production", {}, ["60", "True"]),
        ("config.settings.production", {"CONN_MAX_AGE": "300"}, ["300", "True"]),
        ("config.settings.local", {"CONN_MAX_AGE": "30"}, ["30", "True"]),
    ],
)
def test_connection_age_comes_from_the_environment_and_health_checks_are_on(module, environment, expected):
    assert database_settings(module, **environment) == expected


READ_PREPARE_THRESHOLD = (
    "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS', {}).get('prepare_threshold'))"
)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"DATABASE_URL": "postgres://u@db.example/crm"}, "5"),
        ({"DATABASE_URL": "postgres://u@db.example/crm", "DATABASE_PREPARED_STATEMENTS": "false"}, "None"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "None"),  # SQLite prepares on its own; no such option
    ],
)
def test_prepared_statements_are_on_for_postgresql_unless_a_pooler_needs_them_off(environment, expected):
    # DATABASE_URL is always given: the suite's own (SQLite or PostgreSQL) is never the one read.
    assert database_settings("config.settings.production", READ_PREPARE_THRESHOLD, **environment) == [expected]


READ_ENGINE = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"


@pytest.mark.parametrize(
    ("module", "url", "expected"),
    [
        ("config.settings.production", "postgres://u@db.example/crm", "config.db.postgresql"),
        ("config.settings.production", "sqlite:///:memory:", "django.db.backends.sqlite3"),
        # The bench's hand-written comparisons run on Django's stock engine, health check and all.
        ("bench.floor.settings", "postgres://u@db.example/crm", "django.db.backends.postgresql"),
        ("bench.peer.settings", "postgres://u@db.example/crm", "django.db.backends.postgresql"),
    ],
)
def test_the_app_runs_postgresql_on_its_own_engine_and_the_bench_peers_on_djangos(module, url, expected):
    assert database_settings(module, READ_ENGINE, DATABASE_URL=url) == [expected]
