"""Inline, a delivery is one transaction: the contact's apply and the event's INSERT with its outcome (or, when
that cannot be, the INSERT and then the apply), one commit. A failed apply rolls that transaction back whole;
the event is stored again and applied under a savepoint, which records the failure on it: the answer is 200
only for a committed event, and a failed apply never loses it."""

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact
from contacts.services import sync
from tests.webhooks.timely_payloads import created, updated
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failing_application(monkeypatch):
    """Applying an event whose dedupe key is in ``failing`` raises ``error``; ``calls`` counts the tries."""
    state = {"error": ValueError("cannot apply Ana Costa"), "failing": set(), "calls": 0}
    real = sync.ContactBatch.apply

    def apply(batch, event):
        state["calls"] += 1
        if event.dedupe_key in state["failing"]:
            # Written first, then the failure: nothing of the failed apply may survive.
            if (contact := batch.contacts.get(sync.event_subject(event))) is not None:
                contact.name = "half-applied"
            raise state["error"]
        return real(batch, event)

    monkeypatch.setattr(sync.ContactBatch, "apply", apply)
    return state


def test_a_failed_apply_leaves_the_stored_event_with_its_failure_and_answers_200(post_webhook, failing_application):
    post_webhook("timely", created(event_id="evt_c", contact_id="cont_1", seconds=0, name="Ana Costa"))
    failing_application.update(failing={"evt_u"}, calls=0)

    with CaptureQueriesContext(connection) as captured:
        change = {"name": {"before": "Ana Costa", "after": "Ana B"}}
        response = post_webhook("timely", updated(event_id="evt_u", contact_id="cont_1", seconds=5, changes=change))

    assert response.status_code == 200 and response.json()["status"] == "accepted"
    event = WebhookEvent.objects.get(dedupe_key="evt_u")
    assert event.pk == response.json()["event"]
    assert (event.status, event.attempts) == (WebhookEventStatus.FAILED, 1)
    assert event.status_reason.startswith("builtins.ValueError") and "Ana" not in event.status_reason
    assert event.body is not None and event.processed_at is not None
    assert Contact.objects.get().name == "Ana Costa"  # the failed apply's change rolled back
    # The quick try, rolled back whole; then stored again and applied under a savepoint; one commit.
    sqls = [query["sql"].upper() for query in captured.captured_queries]
    assert sqls.count("ROLLBACK") == 1 and sqls.count("COMMIT") == 1
    assert any(sql.startswith("SAVEPOINT") for sql in sqls)
    assert failing_application["calls"] == 2


def test_a_transient_failure_leaves_the_stored_event_due_again_later(post_webhook, failing_application):
    failing_application.update(error=OperationalError("deadlock detected"), failing={"evt_c"})

    response = post_webhook("timely", created(event_id="evt_c", contact_id="cont_1", seconds=0, name="Ana Costa"))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == (WebhookEventStatus.RECEIVED, 1)
    assert event.next_attempt_at > event.received_at
    assert not Contact.objects.exists()


def test_an_applied_delivery_commits_once_and_never_reads_its_event_back(post_webhook):
    with CaptureQueriesContext(connection) as captured:
        response = post_webhook("timely", created(event_id="evt_c", contact_id="cont_1", seconds=0, name="Ana Costa"))

    assert response.json()["status"] == "accepted"
    sqls = [query["sql"] for query in captured.captured_queries]
    assert [sql.upper() for sql in sqls].count("COMMIT") == 1
    assert not [sql for sql in sqls if sql.startswith("SELECT") and '"webhooks_webhookevent"' in sql]
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == (WebhookEventStatus.PROCESSED, 1)
    assert "name" in event.changed_fields and Contact.objects.get().name == "Ana Costa"


def test_a_database_that_fails_while_storing_answers_503_and_stores_nothing(post_webhook, monkeypatch):
    def lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("webhooks.ingest.insert_event", lost)

    response = post_webhook("timely", created(event_id="evt_c", contact_id="cont_1", seconds=0, name="Ana Costa"))

    assert response.status_code == 503
    assert not WebhookEvent.objects.exists() and not Contact.objects.exists()


def test_the_delivery_is_logged_and_counted_after_the_writers_turn_not_inside_it(post_webhook, monkeypatch):
    # On SQLite the writer's turn (config.db.sqlite.writers) holds the file's write lock for the others: the
    # log line and the counts must not hold it longer. Recorded in order: the turn's end, then the counting.
    import contextlib

    from webhooks import ingest, processing

    steps = []
    real_finished, real_turn = processing.batch_finished, ingest.writer_turn

    @contextlib.contextmanager
    def writer_turn(*args, **kwargs):
        with real_turn(*args, **kwargs):
            steps.append("turn")
            yield
        steps.append("turn over")

    def batch_finished(events):
        steps.append(("counted", connection.in_atomic_block, [event.status for event in events]))
        return real_finished(events)

    monkeypatch.setattr(ingest, "writer_turn", writer_turn)
    monkeypatch.setattr(processing, "batch_finished", batch_finished)
    response = post_webhook("timely", created(event_id="evt_c", contact_id="cont_1", seconds=0, name="Ana Costa"))

    assert response.json()["status"] == "accepted"
    assert steps == ["turn", "turn over", ("counted", False, [WebhookEventStatus.PROCESSED])]


def test_a_delivery_whose_counting_fails_is_still_answered_200_and_kept(post_webhook, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("metrics file gone")

    monkeypatch.setattr("webhooks.processing.record_processed", broken)
    response = post_webhook("timely", created(event_id="evt_c", contact_id="cont_1", seconds=0, name="Ana Costa"))

    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED
    assert Contact.objects.get().name == "Ana Costa"
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1 and "RuntimeError" in errors[0] and "metrics file gone" not in errors[0]


def test_the_usual_delivery_is_read_from_the_payload_the_request_parsed_not_parsed_again(post_webhook, monkeypatch):
    parsed_again = []
    stored_payload = WebhookEvent.payload

    def payload(event):
        parsed_again.append(event.event_id)
        return stored_payload.fget(event)

    monkeypatch.setattr(WebhookEvent, "payload", property(payload))
    response = post_webhook("timely", created(event_id="evt_c", contact_id="cont_1", seconds=0, name="Ana Costa"))

    assert response.json()["status"] == "accepted"
    assert Contact.objects.get().name == "Ana Costa"
    assert parsed_again == []
