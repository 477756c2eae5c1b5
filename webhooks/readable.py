"""The event log's stored words as staff read them, in their language: why an event ended as it did, who
made the change, which fields. The stored values stay in English (the API, exports and other systems read
them as they are); only what the admin shows is translated, here.

A status reason is pieces joined by "; ", each said by a provider (``Ignore``), by processing, or by the
receiver that applied the event (``Outcome.reason``, the bridge's contract): this module knows each piece's
wording. A piece it does not know (a failure's class and code location) is shown as stored.
"""

import re

from django.utils.translation import gettext_lazy, pgettext_lazy

# The bridge's field names (``ContactEvent.fields``, ``Outcome.changed``) as staff call them; the same words
# as the contact's own field names.
FIELD_LABELS = {
    "name": gettext_lazy("name"),
    "phone": gettext_lazy("phone"),
    "email": gettext_lazy("email"),
    "avatar_url": gettext_lazy("avatar URL"),
    "source": gettext_lazy("source"),
    "tags": gettext_lazy("tags"),
    "custom_fields": gettext_lazy("custom fields"),
    "assigned_to": gettext_lazy("assigned to"),
    "status_id": gettext_lazy("status id"),
    "status": gettext_lazy("status"),
    "sub_group_id": gettext_lazy("sub-group id"),
    "can_sms": gettext_lazy("can SMS"),
    "can_email": gettext_lazy("can email"),
    "can_call": gettext_lazy("can call"),
    "last_sms_in_at": gettext_lazy("last SMS in"),
    "last_sms_out_at": gettext_lazy("last SMS out"),
    "last_call_at": gettext_lazy("last call"),
    "remote_created_at": gettext_lazy("created at the provider"),
    "remote_updated_at": gettext_lazy("updated at the provider"),
    "needs_refresh": gettext_lazy("needs refresh"),
    "erased_at": gettext_lazy("erased at"),
}

# Who made a change at the provider (Timely's ``updated_by_type``/``deleted_by_type``), the stored codes marked
# for translation under the context "actor type" (contacts shows an erasure's requester the same way).
ACTOR_TYPE_LABELS = {
    "attendant": pgettext_lazy("actor type", "attendant"),
    "agent": pgettext_lazy("actor type", "agent"),
    "api": pgettext_lazy("actor type", "api"),
    "automation": pgettext_lazy("actor type", "automation"),
}

FIELDS = r"(?P<fields>[\w, ]+)"
# Each known piece of a status reason, matched whole, and how it reads.
REASON_PIECES = [
    (re.compile(r"event type (?P<type>\S+) is not applied"), gettext_lazy("event type %(type)s is not applied")),
    (re.compile(r"our own API write \(updated_by (?P<actor>.*)\)"),
     gettext_lazy("our own write through the API (by %(actor)s)")),
    (re.compile(r"payload was purged before processing"), gettext_lazy("payload was purged before processing")),
    (re.compile(r"no receiver handled this event"), gettext_lazy("no receiver handled this event")),
    (re.compile(r"try (?P<try>\d+) of (?P<of>\d+) failed: (?P<error>.*)"),
     gettext_lazy("try %(try)s of %(of)s failed: %(error)s")),
    (re.compile(rf"values that cannot be stored skipped: {FIELDS}"),
     gettext_lazy("values that cannot be stored skipped: %(fields)s")),
    (re.compile(rf"stale fields skipped: {FIELDS}"), gettext_lazy("stale fields skipped: %(fields)s")),
    (re.compile(rf"drift in: {FIELDS}"), gettext_lazy("drift in: %(fields)s")),
    (re.compile(r"marked needs_refresh"), gettext_lazy("marked as needing a refresh")),
    (re.compile(r"reactivated upstream: marked needs_refresh"),
     gettext_lazy("reactivated at the provider: marked as needing a refresh")),
    (re.compile(r"contact was erased; only a reactivation \(look-up signal\) is applied"),
     gettext_lazy("contact was erased; only a reactivation (look-up signal) is applied")),
    (re.compile(r"contact was erased on a data-subject request"),
     gettext_lazy("contact was erased on a data-subject request")),
    (re.compile(r"contact was erased"), gettext_lazy("contact was erased")),
    (re.compile(r"contact already erased"), gettext_lazy("contact already erased")),
    (re.compile(r"contact erased"), gettext_lazy("contact erased")),
    (re.compile(r"older than the contact's deletion"), gettext_lazy("older than the contact's deletion")),
    (re.compile(r"older than the contact's last deletion"), gettext_lazy("older than the contact's last deletion")),
    (re.compile(r"(?P<provider>\w+): contact deleted at the source"),
     gettext_lazy("%(provider)s: contact deleted at the source")),
]  # fmt: skip
# Why a delivery was refused unstored (``RejectedDelivery.reason``, the signature check's words).
REJECTION_REASONS = [
    (re.compile(r"signature does not match"), gettext_lazy("signature does not match")),
    (re.compile(r"timestamp outside the allowed tolerance"), gettext_lazy("timestamp outside the allowed tolerance")),
    (re.compile(r"missing (?P<header>\S+) header"), gettext_lazy("missing %(header)s header")),
    (re.compile(r"malformed (?P<header>\S+) header"), gettext_lazy("malformed %(header)s header")),
    (re.compile(r"account not allowed"), gettext_lazy("account not allowed")),
]
# The longest piece a reason can hold is two of its "; "-joined parts (a piece with "; " inside).
LONGEST_PIECE = 2


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def field_list(names: str) -> str:
    """"name, custom_fields" as staff read it: "nome, campos personalizados"."""
    return ", ".join(field_label(name.strip()) for name in names.split(","))


def actor_type_label(actor_type: str) -> str:
    return str(ACTOR_TYPE_LABELS.get(actor_type, actor_type))


def readable_reason(reason: str) -> str:
    """A stored status reason in the reader's language, piece by piece; what is not known stays as stored."""
    if not reason:
        return ""
    parts, shown, index = reason.split("; "), [], 0
    while index < len(parts):
        for length in range(min(LONGEST_PIECE, len(parts) - index), 0, -1):
            text = _known_piece("; ".join(parts[index : index + length]))
            if text is not None:
                shown.append(text)
                index += length
                break
        else:
            shown.append(parts[index])
            index += 1
    return "; ".join(shown)


def readable_rejection(reason: str) -> str:
    """Why a delivery was refused, in the reader's language (as stored when the wording is not known)."""
    text = _known_piece(reason, REJECTION_REASONS)
    return reason if text is None else text


def _known_piece(piece: str, pieces=REASON_PIECES) -> str | None:
    for pattern, template in pieces:
        match = pattern.fullmatch(piece)
        if match is None:
            continue
        values = match.groupdict()
        if "fields" in values:
            values["fields"] = field_list(values["fields"])
        if "error" in values:
            values["error"] = readable_reason(values["error"])
        return str(template) % values if values else str(template)
    return None
