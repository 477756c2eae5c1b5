"""The outbound sender against real receivers on 127.0.0.1: Standard Webhooks signatures, retries under the
same webhook-id, give-up and replay, redirects not followed, receivers' answers not kept."""

import base64
import io
import json
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from tests.database_dump import full_dump
from webhooks.outbound.dispatcher import OutboundDispatcher
from webhooks.outbound.models import OutboundAttempt, OutboundMessage
from webhooks.outbound.queue import configure_endpoint, queue_messages

pytestmark = pytest.mark.django_db(transaction=True)

ERASED_AT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def system(key: str, url: str, *secrets_: str) -> list[str]:
    chosen = list(secrets_) or [new_secret()]
    configure_endpoint(key=key, label=key, url=url, secrets=chosen, active=True)
    return chosen


def queue(*keys: str, contact_id: int = 41) -> str:
    return queue_messages(
        endpoint_keys=keys, event_type="contact.erased", at=ERASED_AT,
        data={"id": contact_id, "provider": "timely", "account_id": "ws_1", "external_id": "c_9"},
    )  # fmt: skip


def deliver() -> int:
    return OutboundDispatcher(poll_seconds=0.2).deliver_due()


def make_due_now() -> None:
    OutboundMessage.objects.filter(status="pending").update(next_attempt_at=timezone.now())


def test_each_message_verifies_with_the_standardwebhooks_library_under_every_active_secret(receivers):
    receiver = receivers()
    old, new = new_secret(), new_secret()
    system("billing", receiver.url, old, new)  # a rotation: both secrets sign every message
    message_id = queue("billing")

    assert deliver() == 1
    [request] = receiver.requests
    assert request.headers["webhook-id"] == message_id
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        payload = Webhook(secret).verify(request.body, request.headers)
        assert payload["type"] == "contact.erased"
        assert payload["data"]["id"] == 41 and payload["timestamp"] == "2026-12-07T08:00:00Z"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(request.body, request.headers)
    assert OutboundMessage.objects.get().status == "delivered"


def test_a_system_answering_503_twice_gets_the_same_message_id_on_the_third_try(receivers, settings):
    settings.OUTBOUND_RETRY_BASE_SECONDS = 30
    receiver = receivers(statuses=[503, 503, 200])
    (secret,) = system("crm-b", receiver.url)
    message_id = queue("crm-b")

    deliver()
    message = OutboundMessage.objects.get()
    assert message.status == "pending" and message.attempts == 1 and message.last_status_code == 503
    # Exponential backoff with jitter: the upper half of 30 s after the first failure.
    assert timedelta(seconds=14) <= message.next_attempt_at - message.last_attempt_at <= timedelta(seconds=31)
    assert deliver() == 0  # not due yet
    make_due_now()
    deliver()
    assert OutboundMessage.objects.get().last_status_code == 503
    make_due_now()
    deliver()

    message = OutboundMessage.objects.get()
    assert message.status == "delivered" and message.attempts == 3 and message.delivered_at is not None
    assert [r.headers["webhook-id"] for r in receiver.requests] == [message_id] * 3
    assert len({r.body for r in receiver.requests}) == 1
    for request in receiver.requests:  # each try signed anew, and each verifies
        Webhook(secret).verify(request.body, request.headers)
    assert list(OutboundAttempt.objects.order_by("id").values_list("status_code", flat=True)) == [503, 503, 200]


def test_a_message_is_given_up_on_after_the_give_up_time_and_replayed_by_the_command(receivers, settings):
    settings.OUTBOUND_GIVE_UP_HOURS = 0
    receiver = receivers(statuses=[500, 204])
    system("warehouse", receiver.url)
    message_id = queue("warehouse")

    deliver()
    assert OutboundMessage.objects.get().status == "failed"
    assert deliver() == 0

    settings.OUTBOUND_GIVE_UP_HOURS = 72
    out = io.StringIO()
    call_command("replay_outbound_messages", stdout=out)
    assert "1 message(s) due again" in out.getvalue()
    deliver()
    assert OutboundMessage.objects.get().status == "delivered"
    assert [r.headers["webhook-id"] for r in receiver.requests] == [message_id, message_id]


def test_redirects_are_not_followed_and_the_receivers_answers_are_not_kept(receivers):
    elsewhere = receivers()
    redirecting = receivers(statuses=[302], location=elsewhere.url)
    system("moved", redirecting.url)
    queue("moved")

    deliver()

    assert len(redirecting.requests) == 1 and elsewhere.requests == []
    message = OutboundMessage.objects.get()
    assert message.status == "pending" and message.last_status_code == 302
    assert "receiver's private answer" not in full_dump()


def test_no_personal_value_reaches_the_message_it_carries_only_what_it_was_given(receivers):
    receiver = receivers()
    system("bi", receiver.url)
    queue("bi", contact_id=7)
    deliver()
    body = json.loads(receiver.requests[0].body)
    assert body == {
        "type": "contact.erased",
        "timestamp": "2026-12-07T08:00:00Z",
        "data": {"id": 7, "provider": "timely", "account_id": "ws_1", "external_id": "c_9"},
    }
