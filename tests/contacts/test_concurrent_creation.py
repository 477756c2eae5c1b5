"""Every writer of a contact takes its lock first (config.db.locks), so two deliveries never create one
contact twice. Should a writer that took no lock create it between a batch's read and its write anyway, the
batch's set-based INSERT fails, is isolated to that event, and applying it again lands on top of the row."""

import psycopg
import pytest
from django.db import connection, transaction

from contacts.models import Contact
from contacts.services import sync
from tests.webhooks.test_retries_and_due_events import stored
from tests.webhooks.timely_payloads import created
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.processing import process_due_batch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def side_connection():
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    side = psycopg.connect(**params, autocommit=True)
    yield side
    side.close()


def test_a_contact_created_meanwhile_by_another_writer_gets_the_event_applied_on_top(monkeypatch, side_connection):
    stored(created(event_id="evt_race", contact_id="cont_race", seconds=0, name="Ana Costa"))
    stored(created(event_id="evt_other", contact_id="cont_other", seconds=0, name="Bia Souza"))
    real_write = sync.ContactBatch.write
    created_by_the_other = []

    def another_writer_wins_the_insert(batch):
        if not created_by_the_other:
            created_by_the_other.append(
                side_connection.execute(
                    "INSERT INTO contacts_contact (provider, account_id, external_id, name, phone, email, avatar_url,"
                    " source, tags, custom_fields, assigned_to, status, sub_group_id, notes, field_versions,"
                    " needs_refresh, refresh_attempts, search_text, created_at, updated_at)"
                    " VALUES ('timely', 'ws_abc123', 'cont_race', '', '', 'first@exemplo.com.br', '', '', '[]', '{}',"
                    " '', '', '', '', '{}', true, 0, '', now(), now()) RETURNING id"
                ).fetchone()[0]
            )
        real_write(batch)

    monkeypatch.setattr(sync.ContactBatch, "write", another_writer_wins_the_insert)
    with transaction.atomic():
        process_due_batch(size=10)

    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEventStatus.PROCESSED}
    race = Contact.objects.get(external_id="cont_race")
    assert (race.pk, race.name) == (created_by_the_other[0], "Ana Costa")
    assert Contact.objects.get(external_id="cont_other").name == "Bia Souza"
