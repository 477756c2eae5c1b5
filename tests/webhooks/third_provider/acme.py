"""A throwaway third provider, "Acme", for tests/webhooks/test_third_provider.py: everything adding a provider
takes is this module, its samples (``samples/acme/``) and one settings entry. Its shapes differ from both real
providers on purpose: the person is under ``person``, not ``data``, and the signature has its own headers.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime

from webhooks.demo_people import ChangeKind, DemoChange
from webhooks.events import ContactEvent, ContactEventKind
from webhooks.providers.base import Delivery, Ignore, WebhookProvider
from webhooks.providers.fields import EnvelopeError, as_event_type, as_id, parse_timestamp
from webhooks.providers.schema import Id, Personal, Time
from webhooks.providers.signing import HEX_SHA256, UNIX_SECONDS, SignatureError, timestamped

SIGNATURE_HEADER = "X-Acme-Signature"
TIMESTAMP_HEADER = "X-Acme-Timestamp"
DELETED = "person.deleted"


class AcmeProvider(WebhookProvider):
    name = "acme"
    verbose_name = "Acme"
    deletion_event_type = DELETED
    family_prefix = "person."
    surviving_fields = {
        **dict.fromkeys(("id", "type", "account"), Id()),
        "at": Time(),
        "person": {"id": Id(), "full_name": Personal(), "mail": Personal()},
    }
    surviving_other_family_fields = {**dict.fromkeys(("id", "type", "account"), Id()), "at": Time()}

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: float) -> str:
        signature, timestamp = headers.get(SIGNATURE_HEADER, ""), headers.get(TIMESTAMP_HEADER, "")
        if not HEX_SHA256.fullmatch(signature) or not UNIX_SECONDS.fullmatch(timestamp):
            raise SignatureError(f"missing or malformed {SIGNATURE_HEADER} / {TIMESTAMP_HEADER}")
        self.check_timestamp(timestamp, now=now)
        if not self.signature_matches([signature.lower()], timestamped(timestamp, body)):
            raise SignatureError("signature does not match")
        return "acme"

    def parse(self, body: bytes) -> Delivery:
        # A deletion is read leniently (``load_envelope``): no value in it may stop an erasure.
        payload = self.load_envelope(body, event_type_key="type")
        person = payload.get("person")
        if not isinstance(person, dict):
            raise EnvelopeError("'person' must be an object")
        event_id = as_id(payload.get("id"), field="id")
        return Delivery(
            dedupe_key=event_id,
            event_id=event_id,
            event_type=as_event_type(payload.get("type"), field="type"),
            account_id=as_id(payload.get("account"), field="account"),
            external_id=as_id(person.get("id"), field="person.id"),
            occurred_at=parse_timestamp(payload.get("at"), field="at"),
            payload=payload,
        )

    def interpret(self, delivery: Delivery) -> ContactEvent | Ignore:
        identity = self.event_identity(delivery)
        if delivery.event_type == "person.created":
            person = delivery.payload["person"]
            fields = {"name": person.get("full_name", ""), "email": person.get("mail", "")}
            return ContactEvent(kind=ContactEventKind.CREATED, fields=fields, complete=True, **identity)
        if delivery.event_type == "person.updated":
            person = delivery.payload["person"]
            fields = {key: person[name] for name, key in (("full_name", "name"), ("mail", "email")) if name in person}
            return ContactEvent(kind=ContactEventKind.UPDATED, fields=fields, **identity)
        if delivery.event_type == DELETED:
            return ContactEvent(kind=ContactEventKind.DELETED, deleted_at=delivery.occurred_at, **identity)
        return Ignore(f"event type {delivery.event_type} is not applied")

    def signed_sample_headers(self, body: bytes, *, now: float) -> dict[str, str]:
        timestamp = str(int(now))
        return {SIGNATURE_HEADER: self.sample_signature(timestamp, body), TIMESTAMP_HEADER: timestamp}

    def demo_payloads(self, change: DemoChange) -> list[dict]:
        person = {"id": f"p_demo_{change.person.number}"}
        if change.kind != ChangeKind.DELETED:
            person |= {"full_name": change.person.name, "mail": change.person.email}
        kind = {ChangeKind.DELETED: DELETED, ChangeKind.CREATED: "person.created"}.get(change.kind, "person.updated")
        return [{"id": f"acme_demo_{change.key}", "type": kind, "at": change.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "account": f"acc_demo_{change.person.account}", "person": person}]  # fmt: skip

    def fresh_sample(self, payload: dict, *, now: datetime) -> dict:
        return {**payload, "id": f"acme_{uuid.uuid4().hex}", "at": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
