"""Sync rule 3 as a property: whatever order a contact history's deliveries arrive in, with duplicates,
the contacts end in the state that delivering them in time order gives (equal times broken by the
dedupe key), erasures included: applied one by one as they arrive (inline), and through the worker's
batches, cut anywhere (deletions claimed first, each batch applied in the order its events happened)."""

import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts.models import SYNCED_FIELDS, Contact, ErasureRecord
from tests.conftest import encode
from tests.webhooks.timely_payloads import created, deleted, updated
from webhooks.ingest import store_delivery
from webhooks.models import WebhookEvent
from webhooks.processing import process_due_batch, process_events
from webhooks.providers import get_provider

pytestmark = pytest.mark.django_db

CONTACT_IDS = ("cont_a", "cont_b", "cont_c")
# Few distinct values and few distinct times: collisions and ties are the interesting cases.
TIMELY_VALUES = {
    "name": st.sampled_from(["Ana Costa", "Bia Souza", ""]),
    "phone": st.sampled_from(["+5547991234567", "(47) 99123-4568", None]),
    "email": st.sampled_from(["ana@exemplo.com.br", "bia@exemplo.com.br", None]),
    "avatar_url": st.sampled_from(["https://cdn.example.com/a.png", None]),
    "source": st.sampled_from(["whatsapp", "instagram"]),
    "tags": st.sampled_from([[], ["vip"], ["vip", "pagamento-pendente"]]),
    "custom_fields": st.sampled_from([{}, {"plano": "pro"}, {"plano": "basic", "origem": "site"}]),
    "assigned_to": st.sampled_from(["usr_1", "usr_2", None]),
}
times = st.integers(min_value=0, max_value=4)


@st.composite
def contact_change(draw, index: int):
    contact_id = draw(st.sampled_from(CONTACT_IDS))
    event_id = f"evt_{index:02d}_{draw(st.sampled_from('xyz'))}"
    seconds = draw(times)
    kind = draw(st.sampled_from(["created", "updated", "updated", "updated", "deleted"]))
    if kind == "created":
        fields = {name: draw(values) for name, values in TIMELY_VALUES.items()}
        return created(event_id=event_id, contact_id=contact_id, seconds=seconds, **fields)
    if kind == "deleted":
        return deleted(event_id=event_id, contact_id=contact_id, seconds=seconds)
    names = draw(st.lists(st.sampled_from(sorted(TIMELY_VALUES)), min_size=1, max_size=4, unique=True))
    changes = {name: draw(TIMELY_VALUES[name]) for name in names}
    return updated(event_id=event_id, contact_id=contact_id, seconds=seconds, changes=changes)


@st.composite
def shuffled_history(draw):
    """(history in time order, the same deliveries with duplicates in some arrival order)."""
    size = draw(st.integers(min_value=1, max_value=9))
    history = [draw(contact_change(index)) for index in range(size)]
    duplicates = draw(st.lists(st.sampled_from(history), max_size=3))
    arrivals = draw(st.permutations(history + duplicates))
    in_order = sorted(history, key=lambda payload: (event_time(payload), payload["event_id"]))
    return in_order, arrivals


def event_time(payload: dict) -> str:
    data = payload["data"]
    return data.get("deleted_at") or data.get("updated_at") or data["created_at"]


class RolledBack(Exception):
    def __init__(self, state):
        self.state = state


def store(payload: dict) -> int:
    provider = get_provider("timely")
    body = encode(payload)
    stored = store_delivery(
        provider=provider,
        delivery=provider.parse(body),
        body=body,
        headers={},
        signature_form="timely-timestamped",
        remote_addr=None,
    )
    return stored.event_pk


def final_state(deliveries: list[dict]) -> dict:
    """Deliver through storing and processing one at a time, snapshot every contact, then undo it all."""
    try:
        with transaction.atomic(), override_settings(WEBHOOK_PROCESSING="worker"):
            for payload in deliveries:
                process_events([store(payload)])
            raise RolledBack(snapshot())
    except RolledBack as done:
        return done.state


def final_state_in_batches(deliveries: list[dict], batch_sizes: list[int]) -> dict:
    """Store every delivery first, then let the worker's claim and batch apply them, in batches of the
    given sizes (cycled): arbitrary boundaries. Snapshot, then undo it all."""
    try:
        with transaction.atomic(), override_settings(WEBHOOK_PROCESSING="worker"):
            for payload in deliveries:
                store(payload)
            round_ = 0
            while process_due_batch(size=batch_sizes[round_ % len(batch_sizes)]):
                round_ += 1
            assert not WebhookEvent.objects.filter(status="received").exists()
            raise RolledBack(snapshot())
    except RolledBack as done:
        return done.state


def snapshot() -> dict:
    state = {}
    for contact in Contact.objects.order_by("external_id"):
        events = WebhookEvent.objects.filter(external_id=contact.external_id)
        state[contact.external_id] = {
            **{name: getattr(contact, name) for name in SYNCED_FIELDS},
            "remote_updated_at": contact.remote_updated_at,
            "needs_refresh": contact.needs_refresh,
            "erased": contact.erased_at is not None,
            "erasure_records": ErasureRecord.objects.filter(external_id=contact.external_id).count(),
            "unredacted_payloads": events.filter(redacted_at__isnull=True).count() if contact.erased_at else 0,
        }
    return state


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shuffled_history())
def test_any_arrival_order_with_duplicates_converges_to_the_in_order_state(history):
    in_order, arrivals = history
    assert final_state(arrivals) == final_state(in_order)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shuffled_history(), st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=4))
def test_any_arrival_order_through_batches_cut_anywhere_converges_to_the_in_order_state(history, batch_sizes):
    in_order, arrivals = history
    assert final_state_in_batches(arrivals, batch_sizes) == final_state(in_order)


def test_equal_times_are_broken_by_the_dedupe_key_whatever_the_order():
    first = updated(event_id="evt_a", contact_id="cont_a", seconds=1, changes={"name": "From A"})
    second = updated(event_id="evt_b", contact_id="cont_a", seconds=1, changes={"name": "From B"})
    assert final_state([first, second])["cont_a"]["name"] == "From B"
    assert final_state([second, first])["cont_a"]["name"] == "From B"


def test_created_after_its_updates_fills_the_rest_and_clears_needs_refresh():
    update = updated(event_id="evt_u", contact_id="cont_a", seconds=5, changes={"name": "Ana Costa Ribeiro"})
    create = created(event_id="evt_c", contact_id="cont_a", seconds=1, name="Ana Costa", email="ana@exemplo.com.br")

    state = final_state([update, create])["cont_a"]

    assert (state["name"], state["email"], state["needs_refresh"]) == ("Ana Costa Ribeiro", "ana@exemplo.com.br", False)
    assert state == final_state([create, update])["cont_a"]


def test_tombstone_is_the_same_whether_the_deletion_came_first_or_last():
    update = updated(event_id="evt_u", contact_id="cont_a", seconds=1, changes={"name": "Ana"})
    deletion = deleted(event_id="evt_d", contact_id="cont_a", seconds=2)
    assert final_state([deletion, update]) == final_state([update, deletion])
