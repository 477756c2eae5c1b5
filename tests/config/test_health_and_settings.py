import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DatabaseError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    from config.db import writable

    class BrokenConnection:
        def cursor(self):
            raise DatabaseError("server closed the connection")

    monkeypatch.setattr(writable, "connection", BrokenConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def run_manage(*args, **env):
    unset = {"SECRET_KEY", "DJANGO_SETTINGS_MODULE", "ERASURE_FINGERPRINT_KEY"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_real_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "k" * 30 + "-production-like-random-value-xyz",
    "ALLOWED_HOSTS": "crm.example.com",
}


def test_production_settings_pass_check_deploy():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, ERASURE_FINGERPRINT_KEY="f" * 64
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_check_deploy_reports_a_missing_fingerprint_key_as_an_error_while_the_server_still_starts():
    result = run_manage("check", "--deploy", **PRODUCTION)
    assert result.returncode != 0
    assert "contacts.E006" in result.stderr and "ERASURE_FINGERPRINT_KEY is not set" in result.stderr
    assert run_manage("check", **PRODUCTION).returncode == 0  # not a startup check: only --deploy reports it


def test_an_unknown_processing_mode_is_refused_at_start():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.local", WEBHOOK_PROCESSING="celery")
    assert result.returncode != 0
    assert "WEBHOOK_PROCESSING" in result.stderr


def test_settings_read_the_environment(monkeypatch):
    result = run_manage(
        "shell", "-c",
        "from django.conf import settings as s; "
        "print(s.WEBHOOK_PROVIDERS['timely']['SECRETS'], s.WEBHOOK_MAX_BODY_BYTES, s.WEBHOOK_PROCESSING,"
        " s.WEBHOOK_WORKER_POLL_SECONDS, s.WEBHOOK_WORKER_LISTEN)",
        DJANGO_SETTINGS_MODULE="config.settings.local", TIMELY_WEBHOOK_SECRETS="one,two",
        WEBHOOK_MAX_BODY_BYTES="2048", WEBHOOK_PROCESSING="worker", WEBHOOK_WORKER_POLL_SECONDS="2.5",
        WEBHOOK_WORKER_LISTEN="false",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "['one', 'two'] 2048 worker 2.5 False" in result.stdout
