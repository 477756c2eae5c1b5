"""Every entry point reads ``.env`` before it chooses the settings module: a ``DJANGO_SETTINGS_MODULE`` written
there is obeyed (a cron job's ``manage.py`` then runs with production settings, not the development default),
and the process environment still wins over the file. Run in a copy of the project, whose ``.env`` is the only
place the settings module is named."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

REAL_SECRET_KEY = "production-key-" + "x" * 50
READ_SETTINGS = (
    "from django.conf import settings; "
    "print(settings.SETTINGS_MODULE, settings.DEBUG, settings.ADMIN_REQUIRE_2FA, settings.SESSION_COOKIE_SECURE, "
    "settings.BASE_DIR)"
)
# What the copy's process may inherit: nothing that names settings or changes what they read.
NOT_INHERITED = ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "ADMIN_REQUIRE_2FA")


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("project") / "crm-sync"
    shutil.copytree(
        settings.BASE_DIR,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", ".env", "db.sqlite3*", "staticfiles", "tests", "bench", "docs", "__pycache__",
            "test-artifacts", "*.egg-info", ".pytest_cache", ".ruff_cache", ".hypothesis",
        ),
    )  # fmt: skip
    return copy


def run(copy: Path, env_file: str, *command: str, **environment: str) -> subprocess.CompletedProcess:
    (copy / ".env").write_text(env_file)
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    # The suite's PostgreSQL pass keeps its DATABASE_URL (production's case); SQLite's, a file of the copy's.
    env.setdefault("DATABASE_URL", f"sqlite:///{copy / 'db.sqlite3'}")
    env.update(environment)
    return subprocess.run([sys.executable, *command], cwd=copy, env=env, capture_output=True, text=True, timeout=120)


def test_manage_py_obeys_the_settings_module_named_in_env(project_copy):
    result = run(
        project_copy,
        f"DJANGO_SETTINGS_MODULE=config.settings.production\nSECRET_KEY={REAL_SECRET_KEY}\n",
        "manage.py", "shell", "--no-imports", "-c", READ_SETTINGS,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.settings.production", "False", "True", "True", str(project_copy)]


def test_manage_py_with_production_named_in_env_refuses_the_development_key(project_copy):
    # Only the module in .env, no SECRET_KEY anywhere: production's own refusal, not a DEBUG run.
    result = run(project_copy, "DJANGO_SETTINGS_MODULE=config.settings.production\n", "manage.py", "check")

    assert result.returncode != 0
    assert "Production needs a real SECRET_KEY" in result.stderr


def test_the_environment_wins_over_env(project_copy):
    result = run(
        project_copy,
        f"DJANGO_SETTINGS_MODULE=config.settings.production\nSECRET_KEY={REAL_SECRET_KEY}\n",
        "manage.py", "shell", "--no-imports", "-c", READ_SETTINGS,
        DJANGO_SETTINGS_MODULE="config.settings.local",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:3] == ["config.settings.local", "True", "False"]


def test_without_env_manage_py_keeps_the_development_default(project_copy):
    result = run(project_copy, "", "manage.py", "shell", "--no-imports", "-c", READ_SETTINGS)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["config.settings.local", "True"]


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
def test_wsgi_and_asgi_obey_the_settings_module_named_in_env(project_copy, entry_point):
    # Their default is production: .env naming the local settings shows they read it first.
    result = run(
        project_copy,
        "DJANGO_SETTINGS_MODULE=config.settings.local\n",
        "-c", f"import {entry_point}; {READ_SETTINGS}",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.settings.local", "True", "False", "False", str(project_copy)]


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
def test_wsgi_and_asgi_default_to_production(project_copy, entry_point):
    result = run(project_copy, f"SECRET_KEY={REAL_SECRET_KEY}\n", "-c", f"import {entry_point}; {READ_SETTINGS}")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["config.settings.production", "False"]
