"""Query budgets of one delivery, from the request to the applied contact, inline; and of ingest alone with
workers (docs/performance.md). A worker's batch has its own ceiling (test_processing_queries.py).

The tests run with ``transaction=True`` so every ``atomic`` in the code is a real transaction, as in
production, and not a savepoint inside a test transaction. Django logs transaction control too: on
SQLite the ``BEGIN`` it sends when it opens a transaction, on both the ``COMMIT``/``ROLLBACK`` at the end
(psycopg sends its ``BEGIN`` unlogged, a round trip of its own before the first statement). The budgets
count the statements that do the work, SAVEPOINTs included; the number of explicit transactions is
asserted separately and exactly: a statement that runs alone needs none.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact
from tests.conftest import SIGNERS, encode
from tests.factories import ContactFactory
from webhooks.models import ErasedSubject, WebhookEvent, WebhookEventStatus

# Inline, one transaction: (the contact's lock,) the contact, its write, then the event INSERTed with its
# outcome (webhooks.inline): the event row is written once, not inserted and then updated. No savepoint: a
# failure rolls the whole attempt back, and the event is stored again and applied the isolating way.
NEW_EVENT_BUDGET = {"postgresql": 4, "sqlite": 3}
# With workers: the INSERT the unique key turns into nothing, then the first event's id.
DUPLICATE_BUDGET = 2
# A deletion erases the contact, its payloads, the admin log and appends the hash-chained record (README ›
# LGPD erasure), clears the free text of the person's data-subject requests (one UPDATE) and reads the downstream
# systems to tell (none here: nothing to queue); PostgreSQL adds two advisory locks (the contact's, the chain's).
DELETION_BUDGET = {"postgresql": 16, "sqlite": 14}
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")

pytestmark = pytest.mark.django_db(transaction=True)


class Cost:
    def __init__(self, captured):
        sqls = [query["sql"].strip() for query in captured.captured_queries]
        # SQLite's BEGIN is "BEGIN IMMEDIATE" (config/settings/base.py: it takes the write lock at once).
        self.statements = [sql for sql in sqls if sql.upper().split(" ")[0] not in TRANSACTION_CONTROL]
        self.commits = sum(1 for sql in sqls if sql.upper() == "COMMIT")
        self.rollbacks = sum(1 for sql in sqls if sql.upper() == "ROLLBACK")
        self.savepoints = [sql for sql in self.statements if "SAVEPOINT" in sql.upper()]

    def __repr__(self):
        return "\n".join(self.statements)


@pytest.fixture
def cost_of(post_webhook):
    def run(provider, payload):
        with CaptureQueriesContext(connection) as captured:
            response = post_webhook(provider, payload)
        return response, Cost(captured)

    return run


def test_created_event_for_a_new_contact_costs_its_budget_and_one_explicit_transaction(cost_of, timely_fixture):
    response, cost = cost_of("timely", timely_fixture("contact.created"))

    assert response.json()["status"] == "accepted"
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED
    assert Contact.objects.get().name == "Ana Costa"
    # Stored by one insert (the erased-contact check inside it) and applied in the same transaction, without
    # a savepoint: one commit per delivery.
    assert len(cost.statements) <= NEW_EVENT_BUDGET[connection.vendor], cost
    assert cost.savepoints == []
    assert (cost.commits, cost.rollbacks) == (1, 0)
    # The event row is written once, its outcome with it: inserted after the apply, never updated.
    assert [sql for sql in cost.statements if "webhooks_webhookevent" in sql][0].startswith("INSERT"), cost
    assert not [sql for sql in cost.statements if sql.startswith('UPDATE "webhooks_webhookevent"')], cost
    event = WebhookEvent.objects.get()
    assert (event.attempts, event.next_attempt_at) == (1, None) and "name" in event.changed_fields
    assert event.processed_at is not None


def test_update_of_a_known_contact_costs_its_budget(cost_of, timely_fixture):
    ContactFactory(external_id="cont_456", name="Ana Costa")

    response, cost = cost_of("timely", timely_fixture("contact.updated"))

    assert response.json()["status"] == "accepted"
    assert Contact.objects.get().name == "Ana Costa Ribeiro"
    assert len(cost.statements) <= NEW_EVENT_BUDGET[connection.vendor], cost
    assert (cost.commits, cost.rollbacks) == (1, 0)


def test_update_of_an_unknown_contact_creates_it_partial_within_the_budget(cost_of, timely_fixture):
    response, cost = cost_of("timely", timely_fixture("contact.updated"))

    assert response.json()["status"] == "accepted"
    assert Contact.objects.get().needs_refresh is True
    assert len(cost.statements) <= NEW_EVENT_BUDGET[connection.vendor], cost


def test_duplicate_delivery_is_applied_then_rolled_back_and_changes_nothing(cost_of, timely_fixture):
    payload = timely_fixture("contact.created")
    first, _ = cost_of("timely", payload)
    Contact.objects.update(name="Changed here since")

    response, cost = cost_of("timely", payload)

    assert response.json() == {"status": "duplicate", "event": first.json()["event"]}
    # Inline, a delivery is applied before its INSERT finds the first one (a duplicate is rare: a provider's
    # retry): that transaction rolls back whole, the contact's write with it, and the duplicate is told as
    # with workers (two statements more, after the contact's lock on PostgreSQL, in a transaction that
    # writes nothing).
    lock = 1 if connection.vendor == "postgresql" else 0
    assert len(cost.statements) <= NEW_EVENT_BUDGET[connection.vendor] + lock + DUPLICATE_BUDGET, cost
    assert (cost.commits, cost.rollbacks) == (1, 1)
    assert Contact.objects.get().name == "Changed here since"
    assert WebhookEvent.objects.count() == 1


@pytest.mark.usefixtures("erasure_log_cleanup")
def test_deletion_erases_the_contact_in_one_transaction_within_its_budget(cost_of, timely_fixture):
    cost_of("timely", timely_fixture("contact.created"))
    cost_of("timely", timely_fixture("contact.updated"))

    response, cost = cost_of("timely", timely_fixture("contact.deleted"))

    assert response.json()["status"] == "accepted"
    contact = Contact.objects.get()
    assert contact.erased_at is not None and contact.name == ""
    assert not WebhookEvent.objects.filter(redacted_at__isnull=True).exists()
    # The contact is read once, locked, and erased in place: not read again by the erasure, nor after it.
    assert sum(1 for sql in cost.statements if 'FROM "contacts_contact"' in sql) == 1, cost
    assert len(cost.statements) <= DELETION_BUDGET[connection.vendor], cost
    assert cost.savepoints == []
    assert (cost.commits, cost.rollbacks) == (1, 0)


@pytest.mark.usefixtures("worker_mode")
def test_with_workers_a_delivery_is_one_insert_and_no_explicit_transaction(cost_of, timely_fixture):
    response, cost = cost_of("timely", timely_fixture("contact.created"))

    assert response.json()["status"] == "accepted"
    assert WebhookEvent.objects.get().status == WebhookEventStatus.RECEIVED
    # The stored event is the work: no task row, no second statement (on PostgreSQL the table's trigger
    # sends the workers' wake-up inside the INSERT's own transaction).
    assert len(cost.statements) == 1 and cost.statements[0].startswith('INSERT INTO "webhooks_webhookevent"'), cost
    assert (cost.commits, cost.rollbacks) == (0, 0)
    assert not Contact.objects.exists()


@pytest.mark.usefixtures("worker_mode")
def test_with_workers_a_duplicate_delivery_costs_two_statements_and_no_explicit_transaction(cost_of, timely_fixture):
    payload = timely_fixture("contact.created")
    first, _ = cost_of("timely", payload)

    response, cost = cost_of("timely", payload)

    assert response.json() == {"status": "duplicate", "event": first.json()["event"]}
    assert len(cost.statements) <= DUPLICATE_BUDGET, cost
    assert (cost.commits, cost.rollbacks) == (0, 0)


@pytest.mark.usefixtures("worker_mode")
def test_with_workers_a_late_delivery_about_an_erased_contact_costs_four_statements(cost_of, timely_fixture):
    ErasedSubject.objects.create(provider="timely", account_id="ws_abc123", external_id="cont_456")

    response, cost = cost_of("timely", timely_fixture("contact.updated"))

    assert response.json()["status"] == "accepted"
    # The INSERT that skipped it, the look-ups that tell why (no duplicate; its contact erased), the
    # redacted INSERT; each commits on its own.
    assert [sql.split(" ")[0] for sql in cost.statements] == ["INSERT", "SELECT", "SELECT", "INSERT"], cost
    assert (cost.commits, cost.rollbacks) == (0, 0)
    assert WebhookEvent.objects.get().redacted_at is not None


@pytest.mark.usefixtures("worker_mode")
def test_a_delivery_carrying_a_staff_session_cookie_still_costs_one_insert(admin_client, timely_fixture):
    # Webhook deliveries skip the browser's middleware (config/web/bare_views.py): a session cookie that came
    # along is never looked up, no user is loaded, no session is saved.
    body = encode(timely_fixture("contact.created"))
    assert admin_client.cookies.get("sessionid"), "the client is logged in: its cookie goes along"
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.generic(
            "POST", "/webhooks/timely/", body, content_type="application/json", headers=SIGNERS["timely"](body)
        )
    cost = Cost(captured)

    assert response.json()["status"] == "accepted"
    assert len(cost.statements) == 1, cost
    assert "Set-Cookie" not in response.headers
