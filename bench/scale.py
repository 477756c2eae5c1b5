"""In-process helpers of the bench (run by bench/run.py with the app's environment):

python -m bench.scale load --size N     COPY N contacts and N webhook events (1,000 of them about one contact)
python -m bench.scale erase --out FILE  EXPLAIN ANALYZE of an erasure's queries, then the erasure, timed
python -m bench.scale profile           cProfile of the request path through Django's handler
"""

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.events import TIMELY_ACCOUNT, stream  # noqa: E402
from contacts.models import Contact  # noqa: E402
from contacts.services import erase_contact  # noqa: E402
from webhooks.models import WebhookEvent  # noqa: E402

HEAVY_CONTACT = "cont_heavy"
HEAVY_EVENTS = 1_000
BATCH = 10_000


def copy_rows(model, rows) -> None:
    """COPY model instances (every concrete column but the id, prepared as the ORM would save them)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for instance in rows:
            copy.write_row([f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields])


def contact_rows(size: int, now: datetime):
    for i in range(size):
        stamp = [(now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), f"evt_load_{i}"]
        yield Contact(
            provider="timely",
            account_id=TIMELY_ACCOUNT,
            external_id=f"cont_b{i}" if i else HEAVY_CONTACT,
            name=f"Pessoa Carregada {i}",
            phone=f"+5547{990000000 + i}",
            email=f"pessoa{i}@exemplo.com.br",
            source="whatsapp",
            tags=["carregado"],
            custom_fields={"plano": "pro"},
            field_versions={name: stamp for name in ("name", "phone", "email", "source", "tags", "custom_fields")},
        )


def event_rows(size: int, now: datetime):
    for i in range(size):
        external_id = HEAVY_CONTACT if i < HEAVY_EVENTS else f"cont_b{i}"
        payload = {
            "event": "contact.updated",
            "event_id": f"evt_load_{i}",
            "timestamp": "2026-01-01T00:00:00Z",
            "workspace_id": TIMELY_ACCOUNT,
            "data": {
                "contact_id": external_id,
                "changes": {"name": {"before": "Pessoa", "after": f"Pessoa Carregada {i}"}},
                "updated_by": "usr_1",
                "updated_by_type": "attendant",
                "updated_at": "2026-01-01T00:00:00Z",
            },
        }
        yield WebhookEvent(
            provider="timely",
            dedupe_key=f"evt_load_{i}",
            event_id=f"evt_load_{i}",
            event_type="contact.updated",
            account_id=TIMELY_ACCOUNT,
            external_id=external_id,
            occurred_at=now - timedelta(days=2),
            received_at=now - timedelta(days=2),
            processed_at=now - timedelta(days=2),
            status="processed",
            changed_fields=["name"],
            body=json.dumps(payload, separators=(",", ":")).encode(),
            headers={"Content-Type": "application/json"},
            signature_form="timely-timestamped",
            remote_addr="127.0.0.1",
            attempts=1,
        )


def load(size: int) -> None:
    now = datetime.now(UTC)
    with transaction.atomic():
        copy_rows(Contact, contact_rows(size, now))
        copy_rows(WebhookEvent, event_rows(size, now))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def erase(out: Path) -> None:
    contact = Contact.objects.get(provider="timely", account_id=TIMELY_ACCOUNT, external_id=HEAVY_CONTACT)
    events = WebhookEvent.objects.count()
    stored = WebhookEvent.objects.filter(external_id=HEAVY_CONTACT).count()
    lines = [f"# Erasure of one contact with {stored} stored events, {events:,} events in the table", ""]

    # First pass, rolled back: capture the statements, then EXPLAIN ANALYZE each one (also rolled back).
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        erase_contact(contact=contact, requested_by="bench", requested_by_type="cli", reason="bench")
        transaction.set_rollback(True)
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE")):
            continue
        if "pg_advisory_xact_lock" in sql:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
        shown = sql if len(sql) < 400 else sql[:400] + f" … ({len(sql)} chars)"
        lines += [f"## {shown}", "", "```", plan, "```", ""]

    # The real erasure, timed end to end (one transaction: the contact, 1,000 payloads, the log record).
    started = time.perf_counter()
    record = erase_contact(contact=contact, requested_by="bench", requested_by_type="cli", reason="bench")
    elapsed_ms = (time.perf_counter() - started) * 1000
    summary = f"erase_contact: {record.redacted_events} payloads redacted in {elapsed_ms:.1f} ms (target < 100 ms)"
    lines.insert(1, summary)
    full_scans = [
        line for line in lines if "Seq Scan on webhooks_webhookevent" in line or "Seq Scan on contacts_contact" in line
    ]
    lines.insert(2, f"sequential scans of the big tables: {len(full_scans)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(
        f"    {summary}; {len(full_scans)} sequential scans of the big tables; plans in {out.relative_to(Path.cwd())}"
    )


def profile() -> None:
    """cProfile over a few thousand requests through Django's handler (no HTTP server): where a
    request's time goes, by function."""
    import os

    from django.test import Client

    secrets = {"timely": os.environ["BENCH_TIMELY_SECRET"], "fpt": os.environ["BENCH_FPT_SECRET"]}
    with_fpt = Path("webhooks/providers/fpt.py").exists()
    requests = stream(total=3_000, secrets=secrets, with_fpt=with_fpt)
    client = Client()
    for request in requests[:200]:  # warm-up: imports, connection, caches
        client.generic("POST", request.path, request.body, content_type="application/json", headers=request.headers)
    measured = requests[200:]
    profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        profiler.enable()
        for request in measured:
            client.generic("POST", request.path, request.body, content_type="application/json", headers=request.headers)
        profiler.disable()
        elapsed = time.perf_counter() - started
    print(
        f"    {len(measured)} requests in-process: {elapsed / len(measured) * 1000:.2f} ms each (profiled), "
        f"{len(captured.captured_queries) / len(measured):.2f} queries each"
    )
    for sort in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(sort).print_stats(30)
        print(f"\n--- top 30 by {sort} ---")
        print("\n".join(text.getvalue().splitlines()[6:]))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("load").add_argument("--size", type=int, required=True)
    sub.add_parser("erase").add_argument("--out", type=Path, required=True)
    sub.add_parser("profile")
    args = parser.parse_args()
    if args.command == "load":
        load(args.size)
    elif args.command == "erase":
        erase(args.out)
    else:
        profile()


if __name__ == "__main__":
    sys.exit(main())
