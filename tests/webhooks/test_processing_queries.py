"""A worker's batch costs a bounded number of statements, whatever its size: claimed with a few
statements, its contacts read in one query, written in two, every outcome in one, one commit
(docs/performance.md › Query budgets). Per event, the cost is Python only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact
from tests.conftest import encode
from tests.factories import ContactFactory, WebhookEventFactory
from tests.webhooks.timely_payloads import created, deleted, updated
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.processing import process_due_batch
from webhooks.providers import get_provider

pytestmark = pytest.mark.django_db(transaction=True)

# PostgreSQL: the candidates, their contacts' locks, the events (FOR UPDATE SKIP LOCKED), the batch's
# SAVEPOINT, the contacts, the new contacts' INSERT, the changed ones' UPDATE, the RELEASE, the outcomes.
# SQLite: no locks to take (one writer), so two fewer.
BATCH_BUDGET = {"postgresql": 9, "sqlite": 7}
# What one deletion adds to its batch: its contact's row written first (created in the same batch here),
# the erasure (tombstone, remembered subject, payloads read and redacted, admin log, the chain's lock,
# head and record, the free text of the person's data-subject requests cleared: one UPDATE, the downstream
# systems to tell: one SELECT) and its own rebuilt copy (its stored headers read, which a batch does not read
# otherwise, and written).
DELETION_EXTRA = {"postgresql": 14, "sqlite": 13}
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


def stored(payload: dict) -> WebhookEvent:
    body = encode(payload)
    return WebhookEventFactory(
        dedupe_key=payload["event_id"],
        external_id=payload["data"]["contact_id"],
        event_type=payload["event"],
        erasure=payload["event"] == "contact.deleted",
        occurred_at=get_provider("timely").parse(body).occurred_at,
        body=body,
    )


def batch_cost(size: int) -> tuple[list[str], int]:
    with CaptureQueriesContext(connection) as captured:
        done = process_due_batch(size=size)
    sqls = [query["sql"] for query in captured.captured_queries]
    statements = [sql for sql in sqls if sql.split(" ")[0].upper() not in TRANSACTION_CONTROL]
    commits = sum(1 for sql in sqls if sql.upper() == "COMMIT")
    assert len(done) == size
    return statements, commits


@pytest.mark.parametrize("size", [1, 10, 50])
def test_a_batch_of_new_and_known_contacts_costs_the_same_statements_whatever_its_size(size):
    for n in range(size):
        if n % 2:
            ContactFactory(external_id=f"cont_{n}", name="Antes")
            stored(updated(event_id=f"evt_{n}", contact_id=f"cont_{n}", seconds=5, changes={"name": f"Depois {n}"}))
        else:
            stored(created(event_id=f"evt_{n}", contact_id=f"cont_{n}", seconds=0, name=f"Pessoa {n}"))

    statements, commits = batch_cost(size)

    assert len(statements) <= BATCH_BUDGET[connection.vendor], "\n".join(statements)
    assert commits == 1
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEventStatus.PROCESSED}
    assert Contact.objects.count() == size
    assert Contact.objects.filter(name__startswith="Antes").count() == 0


@pytest.mark.usefixtures("erasure_log_cleanup")
def test_a_deletion_adds_its_erasure_to_the_batch_and_nothing_per_other_event():
    for n in range(20):
        stored(created(event_id=f"evt_{n}", contact_id=f"cont_{n}", seconds=0, name=f"Pessoa {n}"))
    stored(deleted(event_id="evt_del", contact_id="cont_3", seconds=5))

    statements, commits = batch_cost(21)

    assert len(statements) <= BATCH_BUDGET[connection.vendor] + DELETION_EXTRA[connection.vendor], "\n".join(statements)
    assert commits == 1
    assert Contact.objects.get(external_id="cont_3").erased_at is not None


def test_many_events_of_one_contact_in_one_batch_are_applied_in_the_order_they_happened():
    # Stored newest first: the batch applies them by their time, so none is skipped as stale.
    for n in reversed(range(1, 11)):
        stored(updated(event_id=f"evt_{n:02d}", contact_id="cont_1", seconds=n, changes={"name": f"Name {n:02d}"}))

    statements, _commits = batch_cost(10)

    assert len(statements) <= BATCH_BUDGET[connection.vendor]
    assert Contact.objects.get().name == "Name 10"
    assert not WebhookEvent.objects.filter(status_reason__contains="stale").exists()
