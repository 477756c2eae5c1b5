"""Fuzz: correctly signed envelopes of every event type of every configured provider and the throwaway third
one (their samples), each with one field replaced by a hostile value, posted through the real endpoint. Every
answer is 200 or 400, never a 500; every stored event ends ``processed`` or ``ignored``, never ``failed``;
every deletion erases; and once everyone is deleted, a full dump of the database holds none of the person's
values.

Nothing here names a provider's fields: what a test needs of one comes from its module and samples
(tests/webhooks/provider_contract.py). Runs on SQLite and PostgreSQL (which refuses NUL in text and JSON,
where most such bugs show)."""

import copy
import json
import re
import time

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts.models import Contact, ErasureRecord
from tests.database_dump import found_in, full_dump
from tests.webhooks.provider_contract import (
    CONTRACT_PROVIDERS,
    creation_name,
    deletion_name,
    identifying_paths,
    identity,
    is_time,
    latest_about,
    personal_values,
    retargeted,
    with_extras,
)
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.providers import get_provider
from webhooks.providers.fields import MAX_ACTOR_ID_LENGTH, MAX_ACTOR_TYPE_LENGTH, NOT_A_STRING_ID
from webhooks.samples import load_sample, sample_names

pytestmark = pytest.mark.django_db

# A token no sample holds: a hostile string carrying it stands for a person's value.
TOKEN = "Lindqvist"
# Stand for numbers no JSON encoder writes: replaced by their literals in the encoded body.
HUGE_FLOAT = "__1e400__"
HUGE_INTEGER = "__5000_digits__"


def nested(depth: int):
    value = f"Zélia {TOKEN}"
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


HOSTILE = st.one_of(
    st.sampled_from(
        [
            f"Zélia {TOKEN} " * 800,
            f"Zélia\x00{TOKEN}",
            "\x00",
            f"Zélia\u202e{TOKEN}\x1b[2J\u200b",
            f"Zélia {TOKEN} \U0001f600",
            "\ud800",
            f"Maria {TOKEN} Staff",
            f"maria.{TOKEN}@exemplo.com.br",
            "",
            " ",
            10**400,
            -(10**400),
            2**63,
            -1,
            0,
            1.5,
            HUGE_FLOAT,
            HUGE_INTEGER,
            "yesterday",
            True,
            False,
            None,
            [],
            {},
            [f"Zélia {TOKEN}", None, 3, {"x": 1}],
            {"id": "usr_1", "name": f"Zélia {TOKEN}"},
            {"after": f"Zélia\x00{TOKEN}", "before": [f"Zélia {TOKEN}"]},
            nested(12),
            nested(40),
            "2026-04-19T14:30:00+16:00",
            "9999-12-31T23:59:59-10:00",
            "0001-01-01T00:00:00Z",
            "2026-04-19T14:30:00",
        ]
    ),
    st.text(max_size=24),
    st.integers(),
)


def field_paths(value, prefix=()) -> list[tuple]:
    """Every key (and list index) of the payload, at every depth."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    paths = []
    for key, child in children:
        paths.append((*prefix, key))
        paths.extend(field_paths(child, (*prefix, key)))
    return paths


def replaced(payload: dict, path: tuple, value) -> dict:
    hostile = copy.deepcopy(payload)
    target = hostile
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = copy.deepcopy(value)
    return hostile


def envelope(provider: str, event_type: str) -> dict:
    """The sample with an event id of its own (made fresh by the provider at the sample's own time), carrying
    personal extras a payload may carry."""
    sample = load_sample(provider, event_type)
    occurred_at = get_provider(provider).parse(json.dumps(sample).encode()).occurred_at
    return with_extras(get_provider(provider).fresh_sample(sample, now=occurred_at))


@st.composite
def hostile_deliveries(draw, provider: str):
    event_type = draw(st.sampled_from(sample_names(provider)))
    payload = envelope(provider, event_type)
    path = draw(st.sampled_from(field_paths(payload)))
    return event_type, payload, path, draw(HOSTILE)


def body_of(payload) -> bytes:
    return json.dumps(payload).replace(f'"{HUGE_FLOAT}"', "1e400").replace(f'"{HUGE_INTEGER}"', "9" * 5000).encode()


def values_that_must_vanish(provider: str, path: tuple, value) -> list[str]:
    """The person's values, and a hostile string that stands for one, wherever it was put: a key, a value,
    an id (none of them is in plain form, so not even an id keeps it), a time, an enum."""
    person = [value for value in personal_values(provider) if not is_time(provider, value)]
    strings = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend([*item.keys(), *item.values()])
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and TOKEN in item and "\ud800" not in item:
            strings.append(item)
    return person + strings


def is_plain_id(text: str, width: int) -> bool:
    """Empty, the marker, or ASCII letters, digits and ``_ . : -`` within the column."""
    return text in ("", NOT_A_STRING_ID) or (len(text) <= width and re.fullmatch(r"[A-Za-z0-9_.:-]+", text) is not None)


class Deliveries:
    """Posts through the real endpoint, signed, and checks what every answer must be."""

    def __init__(self, provider, client, run_on_commit):
        self.provider, self.client, self.run_on_commit = provider, client, run_on_commit

    def post(self, payload) -> WebhookEvent | None:
        body = body_of(payload) if isinstance(payload, dict) else payload
        headers = get_provider(self.provider).signed_sample_headers(body, now=time.time())
        with self.run_on_commit(execute=True):
            response = self.client.generic("POST", f"/webhooks/{self.provider}/", body,
                                           content_type="application/json", headers=headers)  # fmt: skip
        assert response.status_code in (200, 400), (response.status_code, response.content[:300])
        assert isinstance(response.json(), dict)
        if response.status_code == 400:
            return None
        event = WebhookEvent.objects.get(pk=response.json()["event"])
        assert event.status in (WebhookEventStatus.PROCESSED, WebhookEventStatus.IGNORED), event.status_reason
        assert is_plain_id(event.actor_id, MAX_ACTOR_ID_LENGTH) and is_plain_id(event.actor_type, MAX_ACTOR_TYPE_LENGTH)
        if event.event_type == get_provider(self.provider).deletion_event_type:
            contact = Contact.objects.get(provider=self.provider, account_id=event.account_id,
                                          external_id=event.external_id)  # fmt: skip
            assert contact.erased_at is not None and contact.personal_fields_held() == []
            assert event.redacted_at is not None
        return event

    def delete_everyone(self) -> None:
        """The provider's deletion of every contact we hold or any stored event names (known to us or
        not), newer than anything the fuzz sent."""
        named = WebhookEvent.objects.exclude(external_id="").values_list("account_id", "external_id")
        for account_id, external_id in {*named, *Contact.objects.values_list("account_id", "external_id")}:
            self.delete(account_id, external_id)

    def delete(self, account_id: str, external_id: str) -> None:
        assert self.post(latest_about(self.provider, deletion_name(self.provider), account_id, external_id))

    def late_event_about_the_person(self, seed: dict) -> WebhookEvent:
        """An event of a family we do not apply, naming the erased person and carrying their values."""
        name = creation_name(self.provider)
        sample = load_sample(self.provider, name)
        fresh = retargeted(latest_about(self.provider, name, **identity(self.provider, seed)),
                           {"type": get_provider(self.provider).parse(json.dumps(sample).encode()).event_type},
                           {"type": "note.created"})  # fmt: skip
        return self.post(with_extras(fresh))


class RolledBack(Exception):
    pass


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize("provider", CONTRACT_PROVIDERS)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_signed_envelopes_never_fail_and_every_deletion_erases(
    client, django_capture_on_commit_callbacks, provider, data
):
    event_type, payload, path, value = data.draw(hostile_deliveries(provider))
    deliveries = Deliveries(provider, client, django_capture_on_commit_callbacks)
    try:
        with transaction.atomic():
            seed = envelope(provider, creation_name(provider))
            assert deliveries.post(seed) is not None

            hostile = deliveries.post(replaced(payload, path, value))
            if path not in identifying_paths(provider) and event_type == deletion_name(provider):
                assert hostile is not None, "a deletion was refused for a value that does not identify it"

            deliveries.delete_everyone()
            late = deliveries.late_event_about_the_person(seed)
            assert late.redacted_at is not None

            assert not Contact.objects.filter(erased_at__isnull=True).exists()
            assert not WebhookEvent.objects.filter(status=WebhookEventStatus.FAILED).exists()
            for record in ErasureRecord.objects.all():
                assert is_plain_id(record.requested_by, MAX_ACTOR_ID_LENGTH)
                assert is_plain_id(record.requested_by_type, MAX_ACTOR_TYPE_LENGTH)
            # An event naming no contact could never be erased later: it is stored redacted.
            assert not WebhookEvent.objects.filter(external_id="", redacted_at__isnull=True).exists()
            must_vanish = values_that_must_vanish(provider, path, value)
            assert found_in(full_dump(), must_vanish) == []
            raise RolledBack
    except RolledBack:
        pass
