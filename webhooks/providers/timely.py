"""Timely.ai: WhatsApp/AI customer service. Contact events carry personal data and a ``changes`` diff.

Signing (their docs disagree, both forms verify): ``X-Timely-Signature: [sha256=]<hex>`` is
HMAC-SHA256(secret, body), or, when ``X-Timely-Timestamp`` is sent, HMAC-SHA256(secret, "{ts}.{body}").
"""

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime

from django.utils.translation import gettext_noop

from webhooks.demo_people import ChangeKind, DemoChange, DemoPerson
from webhooks.events import ContactEvent, ContactEventKind
from webhooks.providers.base import Delivery, Ignore, WebhookProvider
from webhooks.providers.fields import (
    MAX_ACTOR_ID_LENGTH,
    MAX_ACTOR_TYPE_LENGTH,
    EnvelopeError,
    actor_fields,
    as_event_type,
    as_id,
    parse_timestamp,
)
from webhooks.providers.schema import Actor, Digits, Id, OneOf, Personal, Time
from webhooks.providers.signing import HEX_SHA256, UNIX_SECONDS, SignatureError, timestamped

SIGNATURE_HEADER = "X-Timely-Signature"
TIMESTAMP_HEADER = "X-Timely-Timestamp"

CREATED = "contact.created"
UPDATED = "contact.updated"
DELETED = "contact.deleted"

# The channels Timely documents for ``source``: stored as Timely sends them (the API answers them), shown by
# the admin in the reader's language.
SOURCE_CHANNELS = (
    gettext_noop("whatsapp"),
    gettext_noop("instagram"),
    gettext_noop("widget"),
    gettext_noop("telegram"),
    gettext_noop("api"),
    gettext_noop("manual"),
)
# Payload keys (in ``data``) that map one-to-one to contact fields Timely owns.
CONTACT_FIELDS = ("name", "phone", "email", "avatar_url", "source", "tags", "custom_fields", "assigned_to")
# What survives an erasure (webhooks.providers.schema; docs/erasure-rules.md has the table). Documented
# enums are closed sets; the actors (and their types) only as the plain ids the event row and the erasure
# record keep, so a stored payload says no more than they do; the person's fields and the free-form objects
# (``custom_fields``, ``changes``: keys and values) keep only their declared key.
SOURCES = frozenset({"whatsapp", "instagram", "widget", "telegram", "api", "manual"})
_ENVELOPE = {"event": Id(), "event_id": Id(), "timestamp": Time(), "workspace_id": Id()}
_SURVIVING_CONTACT_FIELDS = {
    **_ENVELOPE,
    "data": {
        "contact_id": Id(),
        "source": OneOf(SOURCES),
        "assigned_to": Id(),
        **dict.fromkeys(("created_at", "updated_at", "deleted_at"), Time()),
        "updated_by": Actor(MAX_ACTOR_ID_LENGTH),
        "updated_by_type": Actor(MAX_ACTOR_TYPE_LENGTH),
        "deleted_by": Actor(MAX_ACTOR_ID_LENGTH),
        "deleted_by_type": Actor(MAX_ACTOR_TYPE_LENGTH),
        **dict.fromkeys(
            ("name", "phone", "email", "avatar_url", "tags", "custom_fields", "changes", "notes"), Personal()
        ),
    },
}
# Other families (conversation.*, message.*): their shapes are unpublished, so nothing of ``data`` survives
# (the contact they name is the event row's own contact id).
_SURVIVING_OTHER_FAMILY_FIELDS = {**_ENVELOPE, "data": {}}


class TimelyProvider(WebhookProvider):
    name = "timely"
    deletion_event_type = DELETED
    surviving_fields = _SURVIVING_CONTACT_FIELDS
    surviving_other_family_fields = _SURVIVING_OTHER_FAMILY_FIELDS
    surviving_headers = {TIMESTAMP_HEADER: Digits(12)}
    subject_id_key = "contact_id"
    verbose_name = "Timely.ai"
    demo_weight = 3  # its contacts carry names, emails and tags: most of the demo's people
    stored_headers = (TIMESTAMP_HEADER,)

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: float) -> str:
        header = headers.get(SIGNATURE_HEADER)
        if not header:
            raise SignatureError(f"missing {SIGNATURE_HEADER} header")
        signature = header.strip()
        if signature[:7].lower() == "sha256=":
            signature = signature[7:]
        if not HEX_SHA256.fullmatch(signature):
            raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
        signature = signature.lower()

        timestamp = headers.get(TIMESTAMP_HEADER)
        if timestamp is not None:
            timestamp = timestamp.strip()
            if not UNIX_SECONDS.fullmatch(timestamp):
                raise SignatureError(f"malformed {TIMESTAMP_HEADER} header")
            self.check_timestamp(timestamp, now=now)
            if self.signature_matches([signature], timestamped(timestamp, body)):
                return "timely-timestamped"
        # Senders following the other page sign the body alone, with or without a timestamp header.
        if self.signature_matches([signature], body):
            return "timely-body"
        raise SignatureError("signature does not match")

    def parse(self, body: bytes) -> Delivery:
        payload = self.load_envelope(body, event_type_key="event")
        event_type = as_event_type(payload.get("event"), field="event")
        try:
            timestamp = parse_timestamp(payload.get("timestamp"), field="timestamp")
        except EnvelopeError:
            if event_type != DELETED:
                raise
            timestamp = None  # a usable deleted_at is enough for a deletion
        account_id = as_id(payload.get("workspace_id"), field="workspace_id")
        data = self.data_object(payload)
        event_id = payload.get("event_id")
        if event_id is not None:
            event_id = as_id(event_id, field="event_id")
        external_id, subject_unreadable = self.subject(event_type, data)

        occurred_at = timestamp
        for key in ("deleted_at", "updated_at", "created_at"):
            if data.get(key) is not None:
                try:
                    occurred_at = parse_timestamp(data[key], field=f"data.{key}")
                except EnvelopeError:
                    # A deletion falls back to the envelope's time: no signed payload stops an erasure.
                    if event_type.startswith("contact.") and event_type != DELETED:
                        raise
                    # Other families' shapes are unpublished: store them on the envelope's time.
                break
        if occurred_at is None:
            raise EnvelopeError("'timestamp' must be an ISO-8601 string within range")
        if event_type == UPDATED and data.get("changes") is not None and not isinstance(data["changes"], dict):
            raise EnvelopeError("'data.changes' must be an object")

        return Delivery(
            dedupe_key=event_id or hashlib.sha256(body).hexdigest(),
            event_id=event_id or "",
            event_type=event_type,
            account_id=account_id,
            external_id=external_id,
            occurred_at=occurred_at,
            payload=payload,
            subject_unreadable=subject_unreadable,
        )

    def interpret(self, delivery: Delivery) -> ContactEvent | Ignore:
        data = delivery.payload["data"]
        common = self.event_identity(delivery)
        if delivery.event_type == CREATED:
            fields = {key: data[key] for key in CONTACT_FIELDS if key in data}
            if data.get("created_at") is not None:
                # Not occurred_at, which prefers updated_at when a payload carries both. As sent: a value
                # that cannot be stored is skipped like any other field's.
                fields["remote_created_at"] = data["created_at"]
            return ContactEvent(kind=ContactEventKind.CREATED, fields=fields, complete=True, **common)

        if delivery.event_type == UPDATED:
            actor = actor_fields(data.get("updated_by"), data.get("updated_by_type"))
            if actor["actor_type"] == "api" and actor["actor_id"] in self.config.get("IGNORE_ACTORS", ()):
                return Ignore(f"our own API write (updated_by {actor['actor_id']})")
            fields, previous, unreadable = {}, {}, []
            # Not an object only in a copy rebuilt after an erasure (parse refuses it on arrival).
            changes = data.get("changes") if isinstance(data.get("changes"), dict) else {}
            for key, change in changes.items():
                if key not in CONTACT_FIELDS:
                    continue
                if not isinstance(change, dict) or "after" not in change:
                    unreadable.append(key)
                    continue
                fields[key] = change["after"]
                if "before" in change:
                    previous[key] = change["before"]
            return ContactEvent(
                kind=ContactEventKind.UPDATED,
                fields=fields,
                previous=previous,
                unreadable=tuple(unreadable),
                **actor,
                **common,
            )

        if delivery.event_type == DELETED:
            return ContactEvent(
                kind=ContactEventKind.DELETED,
                deleted_at=delivery.occurred_at,
                deletion_is_final=True,
                **actor_fields(data.get("deleted_by"), data.get("deleted_by_type")),
                **common,
            )

        return Ignore(f"event type {delivery.event_type} is not applied")

    def signed_sample_headers(self, body: bytes, *, now: float) -> dict[str, str]:
        timestamp = str(int(now))
        return {SIGNATURE_HEADER: f"sha256={self.sample_signature(timestamp, body)}", TIMESTAMP_HEADER: timestamp}

    def demo_payloads(self, change: DemoChange) -> list[dict]:
        person, stamp = change.person, change.at.strftime("%Y-%m-%dT%H:%M:%SZ")
        envelope = {"event_id": f"evt_demo_{change.key}", "timestamp": stamp,
                    "workspace_id": DEMO_WORKSPACES[person.account]}  # fmt: skip
        contact_id = f"cont_demo_{person.number:05d}"
        if change.kind == ChangeKind.CREATED:
            data = {"contact_id": contact_id, **_demo_fields(person), "avatar_url": None, "created_at": stamp}
            return [{"event": CREATED, **envelope, "data": data}]
        if change.kind == ChangeKind.UPDATED:
            before, after = _demo_fields(change.before), _demo_fields(person)
            changes = {key: {"before": before[key], "after": after[key]} for key in after if before[key] != after[key]}
            if not changes:
                return []  # what changed is nothing Timely holds (a stage, a sub-group)
            data = {"contact_id": contact_id, "changes": changes, "updated_at": stamp,
                    "updated_by": _demo_owner(person.owner) or "usr_100", "updated_by_type": "attendant"}  # fmt: skip
            return [{"event": UPDATED, **envelope, "data": data}]
        data = {"contact_id": contact_id, "name": person.name, "phone": person.phone, "email": person.email,
                "deleted_by": "usr_100", "deleted_by_type": "attendant", "deleted_at": stamp}  # fmt: skip
        return [{"event": DELETED, **envelope, "data": data}]

    def fresh_sample(self, payload: dict, *, now: datetime) -> dict:
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        sample = {**payload, "event_id": f"evt_{uuid.uuid4().hex}", "timestamp": stamp}
        data = dict(sample.get("data") or {})
        for key in ("created_at", "updated_at", "deleted_at"):
            if key in data:
                data[key] = stamp
        sample["data"] = data
        return sample


# The demo's workspaces: the samples' own first, so its people sit beside Ana Costa.
DEMO_WORKSPACES = ("ws_abc123", "ws_filial_sul")


def _demo_owner(owner: int | None) -> str | None:
    return None if owner is None else f"usr_{300 + owner}"


def _demo_fields(person: DemoPerson) -> dict:
    return {
        "name": person.name,
        "phone": person.phone or None,
        "email": person.email or None,
        "source": person.channel,
        "tags": list(person.tags),
        "custom_fields": {"plano": person.plan, "cidade": person.city},
        "assigned_to": _demo_owner(person.owner),
    }
