"""The alert rules and the Grafana dashboard in docs/monitoring/: promtool accepts the rules and their unit
tests pass, and every series they (and the dashboard) read is one /metrics exports."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.db import connection

from config.ops import metrics
from contacts.services.erasure_log import verify_erasure_log
from tests.config.test_metrics import TOKEN
from tests.factories import WebhookEventFactory

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs/monitoring/alerts.yml"
RULE_TESTS = ROOT / "tests/monitoring/alerts_test.yml"
DASHBOARD = ROOT / "docs/monitoring/grafana-dashboard.json"
SERIES = re.compile(r"\bcrm_sync_[a-z_]+")


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: .ci/run installs Debian's prometheus package")
        pytest.skip("promtool is missing here (apt-get install prometheus); CI installs it")
    return path


def test_promtool_accepts_the_rules():
    result = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 12 rules found" in result.stdout


def test_each_alert_fires_when_it_should_and_not_before():
    result = subprocess.run([promtool(), "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def exported(client, settings):
    """Every sample name one full scrape answers, once each kind of value has been counted."""
    settings.METRICS_TOKEN, settings.PROMETHEUS_MULTIPROC_DIR = TOKEN, ""
    for outcome in metrics.DELIVERY_OUTCOMES:
        metrics.record_delivery("timely", outcome)
    metrics.record_processed("timely", "failed")
    metrics.record_erasure("timely")
    metrics.observe_worker_batch(size=3, seconds=0.1)
    for outcome in metrics.OUTBOUND_OUTCOMES:
        metrics.record_outbound_try("billing", outcome)
    WebhookEventFactory()
    verify_erasure_log()
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).content.decode()
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}


POSTGRESQL_ONLY = {
    "crm_sync_webhook_event_table_dead_rows",
    "crm_sync_webhook_event_table_live_rows",
    "crm_sync_database_oldest_transaction_age_seconds",
}


def rule_expressions() -> list[str]:
    return [rule["expr"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


@pytest.mark.django_db
def test_every_series_the_rules_and_the_dashboard_read_is_exported(exported):
    read = {name for expr in rule_expressions() + dashboard_expressions() for name in SERIES.findall(expr)}
    if connection.vendor != "postgresql":
        # Read from PostgreSQL's statistics views (webhooks/table_health.py): exported there only.
        read -= POSTGRESQL_ONLY
    assert read and read <= exported, read - exported


def test_the_dashboard_covers_every_series_the_issue_names():
    read = {name for expr in dashboard_expressions() for name in SERIES.findall(expr)}
    assert {
        "crm_sync_webhook_deliveries_total",
        "crm_sync_webhook_events_pending",
        "crm_sync_webhook_oldest_pending_age_seconds",
        "crm_sync_webhook_events_processed_total",
        "crm_sync_erasures_total",
        "crm_sync_webhook_worker_batch_duration_seconds_bucket",
        "crm_sync_webhook_worker_batch_size_count",
        "crm_sync_erasure_log_verification_ok",
    } <= read
