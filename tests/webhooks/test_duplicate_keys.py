"""Duplicate JSON keys: refused with 400 (a value we would store but neither apply, show nor export), except
in a deletion, which still erases by its lenient path and is stored rebuilt."""

import json

import pytest

from contacts.models import Contact
from tests.conftest import load_fixture
from tests.database_dump import found_in, full_dump
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def with_duplicate(payload: dict, key: str, first: str) -> bytes:
    """The payload encoded with ``"<key>": "<first>"`` written once more, before the real one, in ``data``."""
    body = json_encode(payload)
    return body.replace(b'"data": {', f'"data": {{"{key}": "{first}", '.encode(), 1)


def json_encode(payload: dict) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.parametrize("provider", ["timely", "fpt"])
def test_a_body_with_a_key_twice_is_refused_naming_no_key(post_webhook, provider):
    payload = load_fixture(provider, "contact.created")
    body = with_duplicate(payload, "Maria Souza", "x").replace(b'"Maria Souza": "x", ', b'"k": 1, "k": 2, ')
    response = post_webhook(provider, body)
    assert response.status_code == 400
    assert response.json() == {"error": "body has an object with the same key twice"}
    assert not WebhookEvent.objects.exists()


def test_a_nested_duplicate_is_refused_too(post_webhook):
    payload = load_fixture("timely", "contact.created")
    payload["data"]["custom_fields"] = {"plano": "pro"}
    body = json_encode(payload).replace(b'{"plano": "pro"}', b'{"plano": "basic", "plano": "pro"}')
    assert post_webhook("timely", body).status_code == 400


def test_a_deletion_with_a_key_twice_still_erases_and_keeps_neither_value(post_webhook):
    assert post_webhook("timely", load_fixture("timely", "contact.created")).status_code == 200
    body = with_duplicate(load_fixture("timely", "contact.deleted"), "name", "Zuleica Brandão Segunda")
    response = post_webhook("timely", body)
    assert response.status_code == 200
    assert Contact.objects.get().is_erased
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.payload["data"]["name"] == "[redacted]"
    assert found_in(full_dump(), ["Zuleica Brandão Segunda", "Ana Costa"]) == []
