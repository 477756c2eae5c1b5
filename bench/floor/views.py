"""The least a correct receiver does: HMAC-SHA256 over "{t}.{body}" (the same bytes and the same header
forms the app verifies for Timely and FPT), JSON parse, one insert with a unique key in one transaction,
a JSON answer. Nothing else: no allow-list, no stored headers, no processing (but see ``FLOOR_APPLY`` in
the settings: the same floor plus the least applying in the request must add)."""

import hashlib
import hmac
import json
import time

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from bench.floor.models import FloorContact, FloorEvent

# The apply's statements (FLOOR_APPLY), written once.
CONTACTS, EVENTS = FloorContact._meta.db_table, FloorEvent._meta.db_table
SELECT_CONTACT_FOR_UPDATE = f"SELECT data, changed_at FROM {CONTACTS} WHERE key = %s FOR UPDATE"  # noqa: S608
INSERT_CONTACT = (
    f"INSERT INTO {CONTACTS} (key, data, changed_at) VALUES (%s, %s::jsonb, %s) ON CONFLICT (key) DO NOTHING"  # noqa: S608
)
UPDATE_CONTACT = f"UPDATE {CONTACTS} SET data = %s::jsonb, changed_at = %s WHERE key = %s"  # noqa: S608
MARK_EVENT_PROCESSED = f"UPDATE {EVENTS} SET processed_at = %s WHERE id = %s"  # noqa: S608


def signed_parts(provider: str, headers) -> tuple[str, str, str]:
    """(secret, timestamp, hex signature) as each provider sends them."""
    if provider == "fpt":
        parts = dict(item.split("=", 1) for item in headers.get("X-FPT-Signature", "").split(",") if "=" in item)
        return settings.FLOOR_SECRETS["fpt"], parts.get("t", ""), parts.get("v1", "")
    signature = headers.get("X-Timely-Signature", "").removeprefix("sha256=")
    return settings.FLOOR_SECRETS["timely"], headers.get("X-Timely-Timestamp", ""), signature


@csrf_exempt
def receive(request, provider):
    body = request.body
    secret, timestamp, signature = signed_parts(provider, request.headers)
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return JsonResponse({"error": "bad timestamp"}, status=401)
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return JsonResponse({"error": "bad signature"}, status=401)
    try:
        payload = json.loads(body)
        key = f"{provider}:{payload.get('event_id') or payload['eventId']}"
    except (ValueError, KeyError, TypeError, AttributeError):
        return JsonResponse({"error": "bad envelope"}, status=400)
    try:
        # One INSERT that commits on its own (BEGIN and COMMIT would be two round trips more).
        event = FloorEvent.objects.create(dedupe_key=key, body=body, received_at=timezone.now())
    except IntegrityError:
        return JsonResponse({"status": "duplicate"})
    if settings.FLOOR_APPLY:
        apply(event, provider, payload)
    return JsonResponse({"status": "accepted", "event": event.pk})


def apply(event: FloorEvent, provider: str, payload: dict) -> None:
    """Last-write-wins on the whole contact under its row lock, then the event's outcome: one transaction.

    Hand-written statements: the least this can cost, whatever the app's own path does."""
    data = payload.get("data") or {}
    key = f"{provider}:{data.get('contact_id') or data.get('contactId')}"
    changed_at = str(payload.get("timestamp") or payload.get("eventTimestamp") or "")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SELECT_CONTACT_FOR_UPDATE, [key])
        row = cursor.fetchone()
        if row is None:
            cursor.execute(INSERT_CONTACT, [key, json.dumps(data), changed_at])
        elif changed_at >= row[1]:
            current = row[0] if isinstance(row[0], dict) else json.loads(row[0])
            cursor.execute(UPDATE_CONTACT, [json.dumps({**current, **data}), changed_at, key])
        cursor.execute(MARK_EVENT_PROCESSED, [timezone.now(), event.pk])
