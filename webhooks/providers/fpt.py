"""FitProTracker: CRM for gyms. Contact events are signals (ids only, no diff, no personal data).

Signing: ``X-FPT-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]``, each ``v1`` an
HMAC-SHA256(secret, "{t}.{raw body}"); several ``v1`` values are sent while a secret rotates.
``contact.created``/``contact.updated`` say "something changed, look it up"; the typed events carry the
new status or sub-group; ``contact.deleted`` is a soft delete (reactivation arrives as an update).
"""

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext_noop

from webhooks.demo_people import ChangeKind, DemoChange, DemoPerson, Stage
from webhooks.events import ContactEvent, ContactEventKind
from webhooks.providers.base import Delivery, Ignore, WebhookProvider
from webhooks.providers.fields import (
    MAX_ID_LENGTH,
    EnvelopeError,
    as_event_type,
    check_stored_text,
    parse_timestamp,
)
from webhooks.providers.schema import Id, Number, OneOf, Time
from webhooks.providers.signing import HEX_SHA256, UNIX_SECONDS, SignatureError, timestamped

SIGNATURE_HEADER = "X-FPT-Signature"

CREATED = "contact.created"
UPDATED = "contact.updated"
DELETED = "contact.deleted"
STATUS_CHANGED = "contact.status_changed"
SUB_GROUP_CHANGED = "contact.sub_group_changed"

# FPT's fixed status ids and their labels (sub-groups are user-defined per location: ids only). A contact's
# ``status`` stores the English label (the API answers it); the admin shows it in the reader's language.
STATUS_LABELS = {
    1: gettext_noop("Leads"),
    2: gettext_noop("Prospects"),
    3: gettext_noop("Members"),
    4: gettext_noop("Past Members"),
    5: gettext_noop("Non-members"),
    6: gettext_noop("Other"),
    7: gettext_noop("Staff"),
}

# What survives an erasure (webhooks.providers.schema; docs/erasure-rules.md has the table): FPT's documented
# fields are ids, codes and one time; anything else that ever appears in a payload goes.
OPERATIONS = frozenset({"create", "update", "delete"})
_ENVELOPE = {
    **dict.fromkeys(("eventId", "eventType", "locationId", "organizationId"), Id()),
    "eventTimestamp": Time(),
    "apiVersion": OneOf(frozenset({"v1"})),
}
_SURVIVING_CONTACT_FIELDS = {
    **_ENVELOPE,
    "data": {
        "contactId": Id(),
        "operation": OneOf(OPERATIONS),
        **dict.fromkeys(("previousStatusId", "newStatusId"), Number(0, 2**31 - 1)),
        **dict.fromkeys(("previousSubGroupId", "newSubGroupId"), Id()),
    },
}
# Other families: shapes unpublished, so nothing of ``data`` survives.
_SURVIVING_OTHER_FAMILY_FIELDS = {**_ENVELOPE, "data": {}}


class FitProTrackerProvider(WebhookProvider):
    name = "fpt"
    deletion_event_type = DELETED
    surviving_fields = _SURVIVING_CONTACT_FIELDS
    surviving_other_family_fields = _SURVIVING_OTHER_FAMILY_FIELDS
    subject_id_key = "contactId"
    verbose_name = "FitProTracker"
    # Their documentation: secrets are 32 characters or more.
    min_secret_length = 32

    def verify(self, *, headers: Mapping[str, str], body: bytes, now: float) -> str:
        header = headers.get(SIGNATURE_HEADER)
        if not header:
            raise SignatureError(f"missing {SIGNATURE_HEADER} header")
        timestamp, signatures = _parse_signature_header(header)
        self.check_timestamp(timestamp, now=now)
        if self.signature_matches(signatures, timestamped(timestamp, body)):
            return "fpt-v1"
        raise SignatureError("signature does not match")

    def parse(self, body: bytes) -> Delivery:
        payload = self.load_envelope(body, event_type_key="eventType")
        event_id = payload.get("eventId")
        if not isinstance(event_id, str) or not event_id.strip():
            raise EnvelopeError("'eventId' must be a non-empty string")
        check_stored_text(event_id, field="eventId", max_length=MAX_ID_LENGTH)
        event_type = as_event_type(payload.get("eventType"), field="eventType")
        occurred_at = parse_timestamp(payload.get("eventTimestamp"), field="eventTimestamp")
        location_id = _number(payload.get("locationId"), field="locationId")
        data = self.data_object(payload)
        external_id, subject_unreadable = self.subject(event_type, data)
        return Delivery(
            dedupe_key=event_id,
            event_id=event_id,
            event_type=event_type,
            # Contact ids are unique within a location only: the location is the account.
            account_id=location_id,
            external_id=external_id,
            occurred_at=occurred_at,
            payload=payload,
            subject_unreadable=subject_unreadable,
        )

    def interpret(self, delivery: Delivery) -> ContactEvent | Ignore:
        data = delivery.payload["data"]
        # Deletions are soft at FPT: a reactivation may follow as contact.updated.
        common = {**self.event_identity(delivery), "deletion_is_final": False}
        if delivery.event_type in (CREATED, UPDATED):
            kind = ContactEventKind.CREATED if delivery.event_type == CREATED else ContactEventKind.UPDATED
            return ContactEvent(kind=kind, needs_refresh=True, **common)

        if delivery.event_type == STATUS_CHANGED:
            # A status id that is not a whole number cannot be read (nor labelled): skipped, and named.
            new, old = data.get("newStatusId"), data.get("previousStatusId")
            return ContactEvent(
                kind=ContactEventKind.STATUS_CHANGED,
                fields=_status_fields(new),
                previous=_status_fields(old),
                unreadable=() if _is_whole_number(new) else ("status_id", "status"),
                **common,
            )

        if delivery.event_type == SUB_GROUP_CHANGED:
            # Ids or null, passed on as sent: a value that cannot be stored is skipped by the contact.
            fields = {"sub_group_id": data["newSubGroupId"]} if "newSubGroupId" in data else {}
            previous = {"sub_group_id": data["previousSubGroupId"]} if "previousSubGroupId" in data else {}
            return ContactEvent(
                kind=ContactEventKind.SUB_GROUP_CHANGED,
                fields=fields,
                previous=previous,
                unreadable=() if fields else ("sub_group_id",),
                **common,
            )

        if delivery.event_type == DELETED:
            return ContactEvent(kind=ContactEventKind.DELETED, deleted_at=delivery.occurred_at, **common)

        return Ignore(f"event type {delivery.event_type} is not applied")

    def read_id(self, value: Any, *, field: str) -> str:
        return _number(value, field=field)

    def read_other_family_id(self, value: Any, *, field: str) -> str:
        # Other families may name the contact as a number or its digits (the same contact).
        return _number(_digits_as_number(value), field=field)

    def signed_sample_headers(self, body: bytes, *, now: float) -> dict[str, str]:
        timestamp = str(int(now))
        return {SIGNATURE_HEADER: f"t={timestamp},v1={self.sample_signature(timestamp, body)}"}

    def demo_payloads(self, change: DemoChange) -> list[dict]:
        """A creation is FPT's signal and then the typed events that set its status (every contact has one)
        and sub-group; an update, the typed event of what changed, else the signal."""
        person, before = change.person, change.before
        steps: list[tuple[str, dict]] = []
        if change.kind == ChangeKind.CREATED:
            status = {"previousStatusId": None, "newStatusId": DEMO_STATUSES[person.stage]}
            steps = [(CREATED, {"operation": "create"}), (STATUS_CHANGED, status)]
            if person.group is not None:
                steps.append((SUB_GROUP_CHANGED, {"previousSubGroupId": None, "newSubGroupId": _demo_group(person)}))
        elif change.kind == ChangeKind.UPDATED:
            if before.stage != person.stage:
                steps.append((STATUS_CHANGED, {"previousStatusId": DEMO_STATUSES[before.stage],
                                               "newStatusId": DEMO_STATUSES[person.stage]}))  # fmt: skip
            if before.group != person.group:
                steps.append((SUB_GROUP_CHANGED, {"previousSubGroupId": _demo_group(before),
                                                  "newSubGroupId": _demo_group(person)}))  # fmt: skip
            steps = steps or [(UPDATED, {"operation": "update"})]
        else:
            steps = [(DELETED, {"operation": "delete"})]
        payloads = []
        for n, (event_type, data) in enumerate(steps):
            at = change.at + timedelta(seconds=n)
            payloads.append({
                "eventId": hashlib.sha256(f"demo-{change.key}-{n}".encode()).hexdigest()[:32],
                "eventType": event_type,
                "eventTimestamp": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
                "locationId": DEMO_LOCATIONS[person.account], "organizationId": 1207, "apiVersion": "v1",
                "data": {"contactId": 7_000_000 + person.number, **data},
            })  # fmt: skip
        return payloads

    def fresh_sample(self, payload: dict, *, now: datetime) -> dict:
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        return {**payload, "eventId": uuid.uuid4().hex, "eventTimestamp": stamp}


# The demo's locations (the samples' own first) and how its stages read as FPT's statuses.
DEMO_LOCATIONS = (48213, 48214)
DEMO_STATUSES = {Stage.LEAD: 1, Stage.PROSPECT: 2, Stage.MEMBER: 3, Stage.PAST_MEMBER: 4}


def _demo_group(person: DemoPerson) -> int | None:
    return None if person.group is None else 5520 + person.group


def status_label(status_id: int) -> str:
    return STATUS_LABELS.get(status_id, f"Unknown ({status_id})")


def _parse_signature_header(header: str) -> tuple[str, list[str]]:
    """``t=<unix>,v1=<hex>[,v1=<hex>...]`` in any order; other schemes (``v0=``) are ignored."""
    timestamps, signatures = [], []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
        value = value.strip()
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            if not HEX_SHA256.fullmatch(value):
                raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
            signatures.append(value.lower())
    if len(timestamps) != 1 or not UNIX_SECONDS.fullmatch(timestamps[0]) or not signatures:
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
    return timestamps[0], signatures


def _number(value: Any, *, field: str) -> str:
    """FPT ids are whole numbers; stored as strings like every other provider's ids."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise EnvelopeError(f"'{field}' must be a number")
    return check_stored_text(str(value), field=field, max_length=MAX_ID_LENGTH)


def _digits_as_number(value: Any) -> Any:
    """``"9917342"`` as ``9917342`` (the same contact); anything else unchanged."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= MAX_ID_LENGTH:
        return int(value)
    return value


def _is_whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _status_fields(status_id: Any) -> dict[str, Any]:
    """The contact fields a status id sets, or none when it is not a whole number."""
    if not _is_whole_number(status_id):
        return {}
    return {"status_id": status_id, "status": status_label(status_id)}
