"""PostgreSQL: the INSERT trigger wakes idle workers (``NOTIFY webhook_events``) for an event stored due, and
not for an inline delivery, which is stored already applied (migration 0015)."""

import psycopg
import pytest
from django.db import connection

from tests.webhooks.timely_payloads import created

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listener():
    """A session of its own listening on the workers' channel, as an idle worker does."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
        autocommit=True,
    ) as session:
        session.execute("LISTEN webhook_events")

        def woken() -> bool:
            return next(session.notifies(timeout=0.5, stop_after=1), None) is not None

        yield woken


def test_a_delivery_stored_due_wakes_the_workers(listener, worker_mode, post_webhook):
    assert post_webhook("timely", created(event_id="evt_1", contact_id="cont_1", seconds=0)).status_code == 200
    assert listener() is True


def test_an_inline_delivery_stored_applied_wakes_nobody(listener, post_webhook):
    assert post_webhook("timely", created(event_id="evt_1", contact_id="cont_1", seconds=0)).status_code == 200
    assert listener() is False
