"""GET /metrics: behind METRICS_TOKEN, Prometheus text, counted where things happen, added up across
processes, and read from the database in a fixed, small number of index-backed queries."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config.ops import metrics
from contacts.services.erasure_log import verify_erasure_log
from tests.conftest import bypass_erasure_log_guard
from tests.factories import ContactFactory, WebhookEventFactory
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.selectors import pending_events_by_provider

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-test-token-0123456789"


@pytest.fixture
def scrape(client, settings):
    """GET /metrics with the token and answer {(name, labels): value} of every sample."""
    settings.METRICS_TOKEN = TOKEN
    settings.PROMETHEUS_MULTIPROC_DIR = ""

    def get() -> dict:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain; version=")
        return samples(response.content.decode())

    return get


def samples(text: str) -> dict:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0)


def delivery(scraped, provider, outcome):
    return value(scraped, "crm_sync_webhook_deliveries_total", provider=provider, outcome=outcome)


class TestAccess:
    def test_without_a_configured_token_the_endpoint_does_not_exist(self, client, settings):
        settings.METRICS_TOKEN = ""
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404

    @pytest.mark.parametrize(
        "authorization",
        [None, "", "Bearer", "Bearer wrong", f"Token {TOKEN}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer ção"],
    )
    def test_a_missing_or_wrong_token_gets_401(self, client, settings, authorization):
        settings.METRICS_TOKEN = TOKEN
        headers = {} if authorization is None else {"Authorization": authorization}
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"crm_sync" not in response.content

    def test_only_get(self, client, settings):
        settings.METRICS_TOKEN = TOKEN
        assert client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 405

    @pytest.mark.django_db
    def test_the_right_token_gets_every_promised_series(self, scrape):
        names = {name for name, _labels in scrape()}
        assert {
            "crm_sync_webhook_events_pending",
            "crm_sync_webhook_oldest_pending_age_seconds",
            "crm_sync_database_up",
        } <= names


@pytest.mark.django_db
class TestDeliveriesAreCountedByOutcome:
    def test_each_answer_of_the_contract_counts_its_outcome(self, scrape, post_webhook, timely_fixture, settings):
        before = scrape()
        created = timely_fixture("contact.created")
        assert post_webhook("timely", created).status_code == 200
        assert post_webhook("timely", created).status_code == 200
        assert post_webhook("timely", created, secret="not-the-secret").status_code == 401
        assert post_webhook("timely", b"{not json").status_code == 400
        settings.WEBHOOK_MAX_BODY_BYTES = 10
        assert post_webhook("timely", created).status_code == 413
        settings.WEBHOOK_MAX_BODY_BYTES = 1_048_576
        settings.WEBHOOK_PROVIDERS = {
            **settings.WEBHOOK_PROVIDERS,
            "timely": {**settings.WEBHOOK_PROVIDERS["timely"], "ACCOUNT_IDS": ["ws_other"]},
            "fpt": {**settings.WEBHOOK_PROVIDERS["fpt"], "SECRETS": []},
        }
        assert post_webhook("timely", timely_fixture("contact.updated")).status_code == 403
        assert post_webhook("fpt", b"{}", sign=False).status_code == 503
        after = scrape()

        expected = {
            ("timely", "accepted"): 1,
            ("timely", "duplicate"): 1,
            ("timely", "rejected_signature"): 1,
            ("timely", "invalid"): 1,
            ("timely", "too_large"): 1,
            ("timely", "rejected_account"): 1,
            ("timely", "unavailable"): 0,
            ("fpt", "unavailable"): 1,
            ("fpt", "accepted"): 0,
        }
        assert {key: delivery(after, *key) - delivery(before, *key) for key in expected} == expected

    def test_a_store_that_fails_counts_unavailable(self, scrape, post_webhook, timely_fixture, monkeypatch):
        def database_down(**kwargs):
            raise DatabaseError("connection refused")

        monkeypatch.setattr("webhooks.views.store_delivery", database_down)
        before = scrape()
        assert post_webhook("timely", timely_fixture("contact.created")).status_code == 503
        assert delivery(scrape(), "timely", "unavailable") - delivery(before, "timely", "unavailable") == 1

    def test_an_unknown_outcome_is_a_programming_error(self):
        with pytest.raises(ValueError, match="unknown delivery outcome"):
            metrics.record_delivery("timely", "maybe")


@pytest.mark.django_db
class TestOutcomesAndErasures:
    def processed(self, scraped, status):
        return value(scraped, "crm_sync_webhook_events_processed_total", provider="timely", status=status)

    def test_processed_outcomes_and_erasures_are_counted_once_written(self, scrape, post_webhook, timely_fixture):
        before = scrape()
        post_webhook("timely", timely_fixture("contact.created"))
        post_webhook("timely", timely_fixture("conversation.created"))
        post_webhook("timely", timely_fixture("contact.deleted"))
        after = scrape()
        assert self.processed(after, "processed") - self.processed(before, "processed") == 2
        assert self.processed(after, "ignored") - self.processed(before, "ignored") == 1
        erasures = "crm_sync_erasures_total"
        assert value(after, erasures, provider="timely") - value(before, erasures, provider="timely") == 1

    def test_a_failed_event_is_counted_failed(self, scrape, post_webhook, timely_fixture, monkeypatch, settings):
        def broken(*args, **kwargs):
            raise RuntimeError("boom")

        settings.WEBHOOK_RETRY_MAX_ATTEMPTS = 1
        monkeypatch.setattr("webhooks.processing.interpret", broken)
        before = scrape()
        post_webhook("timely", timely_fixture("contact.created"))
        assert self.processed(scrape(), "failed") - self.processed(before, "failed") == 1

    def test_a_workers_batch_counts_its_outcomes_and_is_observed(self, scrape, worker_mode, post_webhook,
                                                                  timely_fixture, run_worker_once):  # fmt: skip
        before, batches = scrape(), metrics.WORKER_BATCH_SIZE.collect()[0]
        count_before = next(s.value for s in batches.samples if s.name.endswith("_count"))
        post_webhook("timely", timely_fixture("contact.created"))
        assert self.processed(scrape(), "processed") == self.processed(before, "processed")  # only stored
        assert run_worker_once() == 1
        assert self.processed(scrape(), "processed") - self.processed(before, "processed") == 1
        batches = metrics.WORKER_BATCH_SIZE.collect()[0]
        assert next(s.value for s in batches.samples if s.name.endswith("_count")) == count_before + 1

    def test_an_erasure_rolled_back_is_not_counted(self, scrape):
        from django.db import transaction

        from contacts.services import erase_on_request

        contact = ContactFactory()
        before = value(scrape(), "crm_sync_erasures_total", provider=contact.provider)
        with pytest.raises(RuntimeError), transaction.atomic():
            erase_on_request(contact=contact, requested_by="u", requested_by_type="cli", reference="DSR-1")
            raise RuntimeError("the surrounding transaction fails")
        assert value(scrape(), "crm_sync_erasures_total", provider=contact.provider) == before


def test_a_worker_batch_is_observed_in_both_histograms():
    def count_and_sum(histogram):
        (family,) = histogram.collect()
        scraped = {s.name: s.value for s in family.samples if not s.labels}
        return scraped[family.name + "_count"], scraped[family.name + "_sum"]

    size_before = count_and_sum(metrics.WORKER_BATCH_SIZE)
    seconds_before = count_and_sum(metrics.WORKER_BATCH_SECONDS)
    metrics.observe_worker_batch(size=40, seconds=0.25)
    assert count_and_sum(metrics.WORKER_BATCH_SIZE) == (size_before[0] + 1, size_before[1] + 40)
    assert count_and_sum(metrics.WORKER_BATCH_SECONDS) == (seconds_before[0] + 1, seconds_before[1] + 0.25)


@pytest.mark.django_db
class TestReadFromTheDatabase:
    def test_pending_events_per_provider_and_the_oldest_age(self, scrape):
        now = timezone.now()
        WebhookEventFactory(received_at=now - timedelta(minutes=30))  # due long ago
        WebhookEventFactory(received_at=now - timedelta(minutes=5), next_attempt_at=now + timedelta(minutes=5))
        WebhookEventFactory(provider="fpt", received_at=now - timedelta(minutes=1))
        WebhookEventFactory(status=WebhookEventStatus.PROCESSED, received_at=now - timedelta(hours=3))
        WebhookEventFactory(status=WebhookEventStatus.FAILED, received_at=now - timedelta(hours=2))
        scraped = scrape()
        assert value(scraped, "crm_sync_webhook_events_pending", provider="timely") == 2
        assert value(scraped, "crm_sync_webhook_events_pending", provider="fpt") == 1
        age = value(scraped, "crm_sync_webhook_oldest_pending_age_seconds")
        assert 30 * 60 <= age < 31 * 60

    def test_nothing_pending_reads_zero_for_every_configured_provider(self, scrape):
        WebhookEventFactory(status=WebhookEventStatus.PROCESSED)
        scraped = scrape()
        assert ("crm_sync_webhook_events_pending", (("provider", "fpt"),)) in scraped
        assert value(scraped, "crm_sync_webhook_events_pending", provider="timely") == 0
        assert value(scraped, "crm_sync_webhook_oldest_pending_age_seconds") == 0

    def test_one_scrape_costs_five_queries_however_many_events(self, scrape, django_assert_num_queries):
        # The pending events, the last verification, the pending outbound messages by system, and the overdue
        # erasures (the undelivered messages' ids, then the count); on PostgreSQL the event table's upkeep.
        WebhookEventFactory.create_batch(30)
        verify_erasure_log()
        with django_assert_num_queries(6 if connection.vendor == "postgresql" else 5):
            scrape()

    @pytest.mark.postgres
    @pytest.mark.django_db(transaction=True)  # dead row versions are counted once their UPDATE commits
    def test_on_postgresql_the_event_tables_dead_rows_and_the_oldest_transaction_are_exposed(self, scrape):
        events = WebhookEventFactory.create_batch(3)
        WebhookEvent.objects.filter(pk__in=[event.pk for event in events]).update(status_reason="x")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")  # this backend's counts, now
        scraped = scrape()
        assert value(scraped, "crm_sync_webhook_event_table_dead_rows") >= 3
        assert value(scraped, "crm_sync_webhook_event_table_live_rows") >= 0
        assert 0 <= value(scraped, "crm_sync_database_oldest_transaction_age_seconds") < 3600

    def test_the_event_tables_upkeep_is_not_exposed_on_sqlite(self, scrape):
        if connection.vendor == "postgresql":
            pytest.skip("PostgreSQL exposes it: the test above")
        names = {name for name, _labels in scrape()}
        assert "crm_sync_webhook_event_table_dead_rows" not in names

    @pytest.mark.postgres
    def test_on_postgresql_the_pending_count_is_answered_from_the_partial_index_alone(self):
        WebhookEventFactory.create_batch(5)
        WebhookEventFactory.create_batch(5, status=WebhookEventStatus.PROCESSED)
        with CaptureQueriesContext(connection) as queries:
            pending_events_by_provider()
        (query,) = queries.captured_queries
        with transaction.atomic(), connection.cursor() as cursor:
            # Tiny test tables make any scan cheap: forbid the table scan (and the bitmap scan, which the
            # statistics other tests left can favour) to see whether an index answers alone.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("EXPLAIN " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Index Only Scan using webhookevent_pending_idx" in plan, plan

    def test_the_last_verification_of_the_erasure_log_is_exposed(self, scrape):
        contact = ContactFactory()
        from contacts.services import erase_on_request

        erase_on_request(contact=contact, requested_by="u", requested_by_type="cli", reference="DSR-1")
        assert "crm_sync_erasure_log_verification_ok" not in {name for name, _ in scrape()}  # never verified
        run = verify_erasure_log()
        scraped = scrape()
        assert value(scraped, "crm_sync_erasure_log_verification_ok") == 1
        assert value(scraped, "crm_sync_erasure_log_records") == 1
        assert value(scraped, "crm_sync_erasure_log_verification_timestamp_seconds") == run.verified_at.timestamp()
        bypass_erasure_log_guard("UPDATE contacts_erasurerecord SET reason = 'rewritten'")
        verify_erasure_log(full=True)
        assert value(scrape(), "crm_sync_erasure_log_verification_ok") == 0

    def test_a_database_that_does_not_answer_still_gets_the_counters_out(self, scrape, monkeypatch):
        def down():
            raise DatabaseError("gone")

        monkeypatch.setattr("webhooks.gauges.pending_events_by_provider", down)
        scraped = scrape()
        assert value(scraped, "crm_sync_database_up") == 0
        assert "crm_sync_webhook_events_pending" not in {name for name, _ in scraped}


@pytest.mark.django_db
def test_counts_from_several_processes_are_added_up(scrape, settings, tmp_path):
    """Multiprocess mode: each gunicorn worker writes its counts to PROMETHEUS_MULTIPROC_DIR, and whichever
    worker answers the scrape reports the sum, not its own share."""
    count_one = "from config.ops.metrics import record_delivery; record_delivery('fpt', 'accepted')"
    for _worker in range(3):
        result = subprocess.run(
            [sys.executable, "-c", count_one],
            cwd=ROOT,
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
    assert len(list(tmp_path.glob("counter_*.db"))) == 3  # one file per process
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    scraped = scrape()
    assert delivery(scraped, "fpt", "accepted") == 3
    assert value(scraped, "crm_sync_database_up") == 1  # the database's values come along
