"""Rebuilding every stored copy about an erased contact from what its provider declares may survive
(``webhooks.providers.schema``): the payload, the stored headers, and the row's own ids, type and reason.

Used when a contact is erased, for every later event that names it (``webhooks.ingest``, and
``webhooks.processing`` for one that raced the erasure), and by ``rebuild_erased_copies`` for copies
stored before this rule. Rows are selected by ids, never by matching text.
"""

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from config.bulk import binary_parameters_cursor
from config.erased_ids import stored_id
from config.locks import lock_subjects
from webhooks.models import ErasedSubject, WebhookEvent
from webhooks.providers import UnknownProvider, get_provider
from webhooks.providers.base import WebhookProvider
from webhooks.providers.json_body import load_json_leniently

# The event columns that can hold an id (or, for the type, a value a sender chose): kept in plain form,
# else as their keyed digest (``config.erased_ids``).
ID_COLUMNS = ("dedupe_key", "event_id", "event_type", "account_id", "external_id")
REBUILT_COLUMNS = ("body", "headers", *ID_COLUMNS, "status_reason")
REBUILD_BATCH = 500
_UNREAD = object()


def rebuilt_columns(provider: WebhookProvider, columns: Mapping[str, Any], *, payload: Any = _UNREAD) -> dict:
    """An event's ``REBUILT_COLUMNS`` rebuilt (``columns`` holds their current values; ``payload`` the
    body already parsed, at ingest)."""
    rebuilt = {name: stored_id(columns[name]) for name in ID_COLUMNS}
    reason = columns.get("status_reason") or ""
    for name in ID_COLUMNS:
        if columns[name] and rebuilt[name] != columns[name]:
            # Our own reasons quote the event type ("event type … is not applied"): quoted as stored now.
            reason = reason.replace(columns[name], rebuilt[name])
    rebuilt["status_reason"] = reason
    rebuilt["headers"] = provider.rebuilt_headers(columns.get("headers") or {})
    if payload is _UNREAD:
        body = columns.get("body")
        payload = None if body is None else _readable(bytes(body))
    rebuilt["body"] = None if payload is None else provider.rebuilt_body(payload, event_type=columns["event_type"])
    return rebuilt


def _readable(body: bytes) -> Any:
    """A stored body as JSON; one that cannot be read at all (never stored so today) as an empty object."""
    try:
        return load_json_leniently(body)
    except Exception:  # noqa: BLE001  (nothing of an unreadable body may survive; nothing to keep)
        return {}


def rebuild_subject_copies(*, provider: str, account_id: str, external_id: str, everything: bool = False) -> Counter:
    """Rebuild every stored event of the contact (its ids as stored, or as stored before ids were kept in
    plain form only) and remember the contact as erased, so later deliveries are stored rebuilt.
    ``everything``: also the events already rebuilt or redacted (``rebuild_erased_copies``); otherwise
    only those holding what arrived. Returns how many values changed, per ``table.column``."""
    counts = Counter()
    subject = {"provider": provider, "account_id": stored_id(account_id), "external_id": stored_id(external_id)}
    if (account_id, external_id) != (subject["account_id"], subject["external_id"]):
        counts["webhooks_erasedsubject.ids"] += ErasedSubject.objects.filter(
            provider=provider, account_id=account_id, external_id=external_id
        ).delete()[0]
    # INSERT … ON CONFLICT DO NOTHING: unlike get_or_create, no savepoint and no look-up first.
    ErasedSubject.objects.bulk_create([ErasedSubject(**subject)], ignore_conflicts=True)
    try:
        webhook_provider = get_provider(provider)
    except UnknownProvider:
        return counts
    rows = WebhookEvent.objects.filter(
        provider=provider,
        account_id__in={account_id, subject["account_id"]},
        external_id__in={external_id, subject["external_id"]},
    )
    if not everything:
        rows = rows.filter(redacted_at__isnull=True)
    counts.update(rebuild_events(webhook_provider, rows, count_unchanged=not everything))
    return counts


def rebuild_events(provider: WebhookProvider, rows, *, count_unchanged: bool) -> Counter:
    """Rebuild these events (a queryset of one provider's): body, headers and ``redacted_at`` in one
    statement per batch; the rare row whose ids or reason change, one UPDATE each. ``count_unchanged``:
    count every row as rebuilt (an erasure's ``redacted_events``), not only the changed values."""
    now, counts, batch = timezone.now(), Counter(), []
    pending = rows.order_by("id").values_list("id", "redacted_at", *REBUILT_COLUMNS)
    for pk, redacted_at, *values in pending.iterator(chunk_size=REBUILD_BATCH):
        columns = dict(zip(REBUILT_COLUMNS, values, strict=True))
        if columns["body"] is not None:
            columns["body"] = bytes(columns["body"])
        rebuilt = rebuilt_columns(provider, columns)
        changed = [name for name in REBUILT_COLUMNS if rebuilt[name] != columns[name]]
        if count_unchanged:
            counts["webhooks_webhookevent.rows"] += 1
        counts.update(f"webhooks_webhookevent.{name}" for name in changed)
        if changed or redacted_at is None:
            batch.append((pk, rebuilt["body"], rebuilt["headers"]))
        if other := {name: rebuilt[name] for name in changed if name in (*ID_COLUMNS, "status_reason")}:
            _rekey(provider.name, pk, other)
        if len(batch) == REBUILD_BATCH:
            _write_rebuilt(batch, now)
            batch = []
    if batch:
        _write_rebuilt(batch, now)
    return counts


def _rekey(provider: str, pk: int, values: dict) -> None:
    """Write a row's rebuilt ids. A dedupe key stored before ids were kept in plain form may meet its own
    digest on a later delivery of the same event: the older row's key then says which row it is."""
    key = values.get("dedupe_key")
    if key and WebhookEvent.objects.filter(provider=provider, dedupe_key=key).exclude(pk=pk).exists():
        values["dedupe_key"] = f"{key}.{pk}"
    WebhookEvent.objects.filter(pk=pk).update(**values)


def _write_rebuilt(batch: list[tuple[int, bytes | None, dict]], now) -> None:
    """Write a batch's rebuilt bodies and headers: on PostgreSQL one UPDATE joined to the batch as arrays
    (``unnest``) sent as binary parameters, elsewhere one parameterized UPDATE per row (``executemany``).

    Not ``bulk_update``: it builds a CASE with one WHEN per row, costly to build in Python and to
    evaluate on the server; nor one statement per row. The arrays go in psycopg's binary format rather
    than quoted into the SQL text. Measured in docs/performance.md › Scale."""
    opts = WebhookEvent._meta
    when = opts.get_field("redacted_at").get_db_prep_save(now, connection)
    headers = [json.dumps(item, ensure_ascii=False) for _pk, _body, item in batch]
    if connection.vendor == "postgresql":
        with binary_parameters_cursor() as cursor:
            ids, bodies = [pk for pk, _body, _h in batch], [body for _pk, body, _h in batch]
            cursor.execute(rebuild_update_sql(), [when, ids, bodies, headers])
        return
    quote = connection.ops.quote_name
    body, header = opts.get_field("body"), opts.get_field("headers")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(opts.db_table)} SET {quote(body.column)} = %s, {quote(header.column)} = %s, "  # noqa: S608
            f"{quote(opts.get_field('redacted_at').column)} = %s WHERE {quote(opts.pk.column)} = %s",
            [
                (body.get_db_prep_save(data, connection), text, when, pk)
                for (pk, data, _h), text in zip(batch, headers, strict=True)
            ],
        )


def rebuild_update_sql() -> str:
    """PostgreSQL's batch UPDATE: parameters are the rebuild time, the ids, the bodies and the headers (as
    JSON text). Identifiers come from the model's own metadata; every value is a parameter."""
    opts, quote = WebhookEvent._meta, connection.ops.quote_name
    column = {name: quote(opts.get_field(name).column) for name in ("body", "headers", "redacted_at")}
    return (
        f"UPDATE {quote(opts.db_table)} AS event SET {column['body']} = batch.body, "  # noqa: S608
        f"{column['headers']} = batch.headers::jsonb, {column['redacted_at']} = %s "
        "FROM unnest(%b::bigint[], %b::bytea[], %b::text[]) AS batch(id, body, headers) "
        f"WHERE event.{quote(opts.pk.column)} = batch.id"
    )


def rebuild_erased_copies(subjects: Iterable[tuple[str, str, str]] = ()) -> Counter:
    """``rebuild_erased_copies``' share in ``webhooks``: every stored copy of these contacts (the tombstones
    ``contacts`` holds) and of every contact listed as erased here, by the rule of today (idempotent: a
    second run changes nothing). One transaction per contact, under its lock (config.locks), so workers may
    run meanwhile. Counts per ``table.column``."""
    counts = Counter()
    listed = ErasedSubject.objects.order_by("id").values_list("provider", "account_id", "external_id")
    for subject in dict.fromkeys([*subjects, *listed]):
        counts["webhooks.subjects"] += 1
        provider, account_id, external_id = subject
        with transaction.atomic():
            lock_subjects([subject])
            counts.update(
                rebuild_subject_copies(
                    provider=provider, account_id=account_id, external_id=external_id, everything=True
                )
            )
    return counts
