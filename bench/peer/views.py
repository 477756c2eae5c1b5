"""What a Django team writes by hand for these webhooks (dj-stripe's shape): verify the HMAC, get_or_create
the event row (its unique key decides duplicates), then apply it in the request in one transaction
(update_or_create the contact with the event's fields, mark the event processed). No field versions (the
last delivery wins, whatever its time), no erasure (a deletion marks the contact deleted), no stored
outcome beyond ``processed``; a failed apply leaves the event stored and unprocessed."""

import hashlib
import hmac
import json
import logging
import time

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench.peer.models import PeerContact, PeerEvent

logger = logging.getLogger(__name__)
TIMELY_FIELDS = ("name", "email", "phone", "tags", "custom_fields", "assigned_to")


def verified(provider: str, headers, body: bytes) -> bool:
    if provider == "fpt":
        parts = dict(item.split("=", 1) for item in headers.get("X-FPT-Signature", "").split(",") if "=" in item)
        secret, timestamp, signature = settings.PEER_SECRETS["fpt"], parts.get("t", ""), parts.get("v1", "")
    else:
        secret, timestamp = settings.PEER_SECRETS["timely"], headers.get("X-Timely-Timestamp", "")
        signature = headers.get("X-Timely-Signature", "").removeprefix("sha256=")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


@csrf_exempt
@require_POST
def receive(request, provider):
    if provider not in settings.PEER_SECRETS or not verified(provider, request.headers, request.body):
        return JsonResponse({"error": "bad signature"}, status=401)
    try:
        payload = json.loads(request.body)
        event_id = payload.get("event_id") or payload["eventId"]
        event_type = payload.get("event") or payload["eventType"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return JsonResponse({"error": "bad envelope"}, status=400)
    event, created = PeerEvent.objects.get_or_create(
        dedupe_key=f"{provider}:{event_id}", defaults={"event_type": event_type, "payload": payload}
    )
    if not created:
        return JsonResponse({"status": "duplicate", "event": event.pk})
    try:
        with transaction.atomic():
            apply(provider, event_type, payload)
            event.processed = True
            event.save(update_fields=["processed"])
    except Exception:
        logger.exception("peer event %s not processed", event.pk)
    return JsonResponse({"status": "accepted", "event": event.pk})


def apply(provider: str, event_type: str, payload: dict) -> None:
    data = payload.get("data") or {}
    if provider == "timely":
        key = f"timely:{payload.get('workspace_id')}:{data['contact_id']}"
        if event_type == "contact.updated":
            fields = {name: change["after"] for name, change in data.get("changes", {}).items()}
        else:
            fields = {name: data[name] for name in TIMELY_FIELDS if name in data}
    else:
        key = f"fpt:{payload.get('locationId')}:{data['contactId']}"
        fields = {}
        if event_type == "contact.status_changed":
            fields["status_id"] = data.get("newStatusId")
        elif event_type == "contact.sub_group_changed":
            fields["sub_group_id"] = data.get("newSubGroupId")
    if event_type == "contact.deleted":
        fields = {"deleted_at": timezone.now()}
    fields = {name: ("" if value is None and name in TIMELY_FIELDS[:3] else value) for name, value in fields.items()}
    PeerContact.objects.update_or_create(key=key, defaults=fields)
