"""The worker's other due work (``worker_tick``: contact look-ups) runs one item at a time, up to
``LOOK_UPS_PER_TICK`` per tick, also while a backlog keeps every batch full, and stops between two items
once the stop flag is set (SIGTERM)."""

import pytest

from tests.webhooks.test_retries_and_due_events import stored
from tests.webhooks.timely_payloads import created
from webhooks.signals import worker_tick
from webhooks.worker import LOOK_UPS_PER_TICK, WebhookWorker

pytestmark = pytest.mark.django_db


@pytest.fixture
def look_ups():
    """A receiver with ``pending`` items of due work; ``limits`` records each call's limit."""
    state = {"pending": 100, "limits": [], "on_call": None}

    def receiver(sender, *, limit, **kwargs):
        state["limits"].append(limit)
        if state["on_call"]:
            state["on_call"]()
        handled = min(limit, state["pending"])
        state["pending"] -= handled
        return handled

    worker_tick.connect(receiver, dispatch_uid="tests.worker_tick")
    yield state
    worker_tick.disconnect(dispatch_uid="tests.worker_tick")


def test_a_tick_does_its_bound_one_item_at_a_time_also_while_the_batches_are_full(look_ups):
    for n in range(4):
        stored(created(event_id=f"evt_{n}", contact_id=f"cont_{n}", seconds=0, name="Ana"))
    worker = WebhookWorker(batch_size=2, poll_seconds=60, listen=False)

    assert worker.step() is True  # a full batch: more to do
    assert look_ups["limits"] == [1] * LOOK_UPS_PER_TICK
    assert worker.events_done == 2

    assert worker.step() is True  # full again, and the next tick is not due yet (60 s): no look-ups
    assert len(look_ups["limits"]) == LOOK_UPS_PER_TICK
    assert worker.events_done == 4


def test_a_stop_during_a_tick_ends_it_after_the_item_in_progress(look_ups):
    worker = WebhookWorker(batch_size=10, poll_seconds=60, listen=False)
    look_ups["on_call"] = lambda: setattr(worker, "stopping", len(look_ups["limits"]) == 3)

    worker.step()
    assert look_ups["limits"] == [1, 1, 1]
    assert look_ups["pending"] == 97  # the rest stays due for the next worker


def test_a_tick_ends_when_nothing_is_left(look_ups):
    look_ups["pending"] = 2
    worker = WebhookWorker(batch_size=10, poll_seconds=60, listen=False)

    assert worker.step() is False  # nothing due, fewer look-ups than the bound: wait
    assert look_ups["limits"] == [1, 1, 1]
