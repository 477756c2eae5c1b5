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


def database_settings(module: str, **environment: str) -> list[str]:
    env = {key: value for key, value in os.environ.items() if key != "CONN_MAX_AGE"}
    env.update(DJANGO_SETTINGS_MODULE=module, SECRET_KEY="k" * 60, **environment)
    result = subprocess.run(
        [sys.executable, "-c", READ_DATABASE_SETTINGS],
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
    unset = ("DATABASE_URL", "DATABASE_PREPARED_STATEMENTS")
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY="k" * 60, **environment)
    result = subprocess.run(
        [sys.executable, "-c", READ_PREPARE_THRESHOLD],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert result.stdout.split() == [expected]
