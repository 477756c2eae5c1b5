"""docs/production.md's *First install*, followed as written on a new PostgreSQL database: its commands in its
order, the administrator's first login and two-factor enrolment, the worker's cron run and a test delivery."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.webhooks.server_processes import Server, free_ports

pytestmark = pytest.mark.postgres

PRODUCTION_MD = Path(settings.BASE_DIR) / "docs" / "production.md"
ADMIN, PASSWORD = "first-admin", "a-long-first-password-0123"


def first_install_section() -> str:
    text = PRODUCTION_MD.read_text()
    start = text.index("## First install")
    return text[start : text.index("\n## ", start + 1)]


def documented_commands(section: str) -> list[list[str]]:
    """The ``manage.py`` commands of the section's ``sh`` and ``cron`` blocks, in order, as argument lists."""
    commands = []
    for block in re.findall(r"```(?:sh|cron)\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            if "manage.py " in line and not line.lstrip().startswith("#"):
                commands.append(line.split("manage.py ", 1)[1].split())
    return commands


@pytest.fixture
def new_database():
    """A PostgreSQL database of its own (not the test database), dropped afterwards."""
    params = connection.get_connection_params()
    admin = {key: params[key] for key in ("host", "port", "user", "password") if params.get(key)}
    name = f"{connection.settings_dict['NAME']}_first_install"
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        server.execute(f'CREATE DATABASE "{name}"')
    credentials = admin.get("user", "") + (f":{admin['password']}" if admin.get("password") else "")
    yield f"postgres://{credentials}@{admin.get('host', '127.0.0.1')}:{admin.get('port', 5432)}/{name}"
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The administrator's first login through the admin's own pages, as production serves them (HTTPS): the
# password, the enrolment page it is sent to, the code the authenticator app would show, then the dashboard.
FIRST_LOGIN = f"""
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
browser = Client(HTTP_HOST="crm.example.com")
login = browser.post("/admin/login/?next=/admin/", {{"username": "{ADMIN}", "password": "{PASSWORD}",
                     "next": "/admin/"}}, secure=True)
sent_to = browser.get("/admin/", secure=True)["Location"]
setup = browser.get(sent_to, secure=True)
device = TOTPDevice.objects.get(user__username="{ADMIN}", confirmed=False)
code = "%06d" % totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
enrolled = browser.post("/admin/two-factor/setup/", {{"code": code}}, secure=True)
print(login.status_code, sent_to.split("?")[0], setup.status_code, enrolled.status_code,
      browser.get("/admin/", secure=True).status_code)
"""


def test_the_first_install_section_works_as_written_on_a_new_database(new_database, tmp_path):
    commands = documented_commands(first_install_section())
    names = [command[0] for command in commands]
    for earlier, later in [("check", "migrate"), ("migrate", "createsuperuser"), ("createsuperuser", "collectstatic")]:
        assert names.index(earlier) < names.index(later), names
    assert {"webhook_worker", "prune_webhook_events", "verify_erasure_log", "export_erasure_log"} <= set(names)
    assert "ERASURE_FINGERPRINT_KEY=" in first_install_section()

    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": new_database,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "crm.example.com,127.0.0.1",
        "ERASURE_FINGERPRINT_KEY": secrets.token_urlsafe(48),
        "TIMELY_WEBHOOK_SECRETS": secrets.token_urlsafe(32),
        "FPT_WEBHOOK_SECRETS": secrets.token_urlsafe(32),
        "WEBHOOK_PROCESSING": "inline",
        "TMPDIR": str(tmp_path),
        # createsuperuser asks; here its answers come from the environment (--noinput, below)
        "DJANGO_SUPERUSER_USERNAME": ADMIN,
        "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
    }

    def manage(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *arguments], cwd=settings.BASE_DIR, env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip

    for command in commands:
        command = [tmp_path / "erasure-log.json" if part.startswith("/var/backups/") else part for part in command]
        if command[0] == "createsuperuser":
            command.append("--noinput")
        result = manage(*map(str, command))
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
        if command[0] == "check":
            assert "ERROR" not in result.stderr + result.stdout

    enrolment = manage("shell", "-c", FIRST_LOGIN)
    assert enrolment.returncode == 0, enrolment.stderr
    assert enrolment.stdout.splitlines()[-1].split() == ["302", "/admin/two-factor/setup/", "200", "200", "200"]

    # The test delivery of step 6, to a gunicorn that a TLS proxy would front (here: plain HTTP on 127.0.0.1).
    (port,) = free_ports(1)
    server = Server(port, tmp_path / "gunicorn.log", {**env, "SECURE_SSL_REDIRECT": "false"}, workers=1)
    try:
        server.wait_until_listening()
        sent = manage("send_test_webhook", "timely", "contact.created", "--url", f"http://127.0.0.1:{port}/webhooks/timely/")
    finally:
        server.stop()
    assert sent.returncode == 0, sent.stderr + (tmp_path / "gunicorn.log").read_text()
    assert sent.stdout.startswith('200 {"status": "accepted"')
