"""In-process helpers of the bench (run by bench/run.py with the app's environment):

python -m bench.scale load --size N     COPY N contacts and N webhook events (1,000 of them about one contact)
python -m bench.scale erase --out FILE  EXPLAIN ANALYZE of an erasure's queries, then the erasure, timed
python -m bench.scale explain_claim --out FILE  EXPLAIN ANALYZE of one worker batch's queries (rolled back)
python -m bench.scale profile           cProfile of the request path through Django's handler
python -m bench.scale backlog --size N  store N deliveries as worker-mode ingest would, in bulk (a backlog)
python -m bench.scale profile_worker    cProfile of a worker draining a backlog in process, by module
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.events import TIMELY_ACCOUNT, stream  # noqa: E402
from config.bulk import binary_parameters_cursor  # noqa: E402
from contacts.erasure_reasons import ErasureReason  # noqa: E402
from contacts.models import Contact  # noqa: E402
from contacts.search import search_document  # noqa: E402
from contacts.services import ErasureOrigin, erase_contact  # noqa: E402
from webhooks.models import WebhookEvent  # noqa: E402
from webhooks.providers import get_provider  # noqa: E402
from webhooks.rebuild import REBUILD_BATCH, rebuild_update_sql  # noqa: E402

# Contacts with 1,000 stored events each: the first for the explained, rolled-back pass, the others erased
# for real, each timed once (a rolled-back rerun would leave dead row versions behind and time something
# else). Six in a big table; two in a small one, where more would make them most of the table.
HEAVY_PREFIX = "cont_heavy"
HEAVY_CONTACT = f"{HEAVY_PREFIX}0"
HEAVY_EVENTS = 1_000
BATCH = 10_000


def heavy_contacts(size: int) -> tuple[str, ...]:
    return tuple(f"{HEAVY_PREFIX}{n}" for n in range(6 if size >= 100_000 else 2))


def copy_rows(model, template, varying: tuple[str, ...], values) -> None:
    """COPY rows of ``model``: every column prepared once from ``template`` (as the ORM would save it),
    then the ``varying`` fields' raw values substituted per row (fast enough for millions of rows)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    base = [f.get_db_prep_save(f.pre_save(template, True), connection) for f in fields]
    positions = [[f.name for f in fields].index(name) for name in varying]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row_values in values:
            row = list(base)
            for position, value in zip(positions, row_values, strict=True):
                row[position] = value
            copy.write_row(row)


def load(size: int) -> None:
    heavy_ids = heavy_contacts(size)
    now = datetime.now(UTC)
    then = now - timedelta(days=2)
    stamp = [then.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "evt_load"]
    contact = Contact(
        provider="timely",
        account_id=TIMELY_ACCOUNT,
        external_id="",
        source="whatsapp",
        tags=["carregado"],
        custom_fields={"plano": "pro"},
        field_versions={name: stamp for name in ("name", "phone", "email", "source", "tags", "custom_fields")},
        remote_updated_at=then,
    )

    def contacts():
        for i in range(size):
            external_id = heavy_ids[i] if i < len(heavy_ids) else f"cont_b{i}"
            name, phone, email = f"Pessoa Carregada {i}", f"+5547{990000000 + i}", f"pessoa{i}@exemplo.com.br"
            text = search_document(name=name, email=email, phone=phone, tags=contact.tags,
                                   custom_fields=contact.custom_fields, external_id=external_id,
                                   account_id=TIMELY_ACCOUNT)  # fmt: skip
            yield external_id, name, phone, email, text

    event = WebhookEvent(
        provider="timely",
        event_type="contact.updated",
        account_id=TIMELY_ACCOUNT,
        occurred_at=then,
        received_at=then,
        processed_at=then,
        status="processed",
        changed_fields=["name"],
        headers={"Content-Type": "application/json"},
        signature_form="timely-timestamped",
        remote_addr="127.0.0.1",
        attempts=1,
    )

    # The heavy contacts' events are spread evenly through the table, as a contact's deliveries arrive over
    # months among everyone else's: an erasure rewrites 1,000 rows on as many different pages.
    heavy_rows = HEAVY_EVENTS * len(heavy_ids)
    spacing = max(1, size // heavy_rows)

    def events():
        for i in range(size):
            slot, offset = divmod(i, spacing)
            heavy = offset == 0 and slot < heavy_rows
            external_id = heavy_ids[slot % len(heavy_ids)] if heavy else f"cont_b{i}"
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
            body = json.dumps(payload, separators=(",", ":")).encode()
            yield f"evt_load_{i}", f"evt_load_{i}", external_id, body

    with transaction.atomic():
        copy_rows(Contact, contact, ("external_id", "name", "phone", "email", "search_text"), contacts())
        copy_rows(WebhookEvent, event, ("dedupe_key", "event_id", "external_id", "body"), events())
    # As autovacuum would have long since done in production: statistics, hint bits and the visibility map
    # set now, not by the measured requests' first reads of each bulk-loaded page.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# A parameter's placeholder as the server-bound statements are logged (``= %s,``, ``unnest(%b::bigint[]``);
# Django's own statements are logged with their values quoted in.
PLACEHOLDER = re.compile(r"%[sb](?=[\s,):]|$)")


def explained(captured: CaptureQueriesContext) -> list[str]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of each captured statement, rolled back, as markdown lines. Left out:
    transaction control, the advisory locks (nothing to plan), binary-parameter statements (logged with
    their placeholders, ``%s``: their parameters are not in the captured text; explained on their own)."""
    lines = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE")):
            continue
        if "pg_advisory_xact_lock" in sql or "pg_try_advisory_xact_lock" in sql or PLACEHOLDER.search(sql):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
        shown = sql if len(sql) < 400 else sql[:400] + f" … ({len(sql)} chars)"
        lines += [f"## {shown}", "", "```", plan, "```", ""]
    return lines


def sequential_scans(lines: list[str]) -> int:
    big = ("Seq Scan on webhooks_webhookevent", "Seq Scan on contacts_contact")
    return sum(1 for line in lines if any(scan in line for scan in big))


def explain_claim(out: Path) -> None:
    """The plans of one worker batch's statements (claim, contacts, writes, outcomes) against the table as
    it is (due events stored by the replay), in a transaction rolled back."""
    from webhooks.processing import process_due_batch

    events, due = WebhookEvent.objects.count(), WebhookEvent.objects.filter(status="received").count()
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        process_due_batch(size=100)
        transaction.set_rollback(True)
    lines = explained(captured)
    lines[:0] = [f"# One worker batch of 100, {events:,} events in the table, {due:,} of them due", "",
                 f"sequential scans of the big tables: {sequential_scans(lines)}", ""]  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"    a batch's plans: {sequential_scans(lines)} sequential scans of the big tables; in {out}")


# The bench erases as a data-subject request would, without the request's checks and lock.
BENCH_REQUEST = {
    "origin": ErasureOrigin.DATA_SUBJECT_REQUEST,
    "requested_by": "bench",
    "requested_by_type": "cli",
    "reason": ErasureReason.DATA_SUBJECT_REQUEST,
}


def erase(out: Path) -> None:
    contact = Contact.objects.get(provider="timely", account_id=TIMELY_ACCOUNT, external_id=HEAVY_CONTACT)
    events = WebhookEvent.objects.count()
    stored = WebhookEvent.objects.filter(external_id=HEAVY_CONTACT).count()
    lines = [f"# Erasure of one contact with {stored} stored events, {events:,} events in the table", ""]

    # First pass, rolled back: capture the statements, then EXPLAIN ANALYZE each one (also rolled back).
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        erase_contact(contact=contact, **BENCH_REQUEST)
        transaction.set_rollback(True)
    lines += explained(captured)

    # The selection of the payloads to redact runs through a server-side cursor (not captured above).
    pending = WebhookEvent.objects.filter(
        provider="timely",
        account_id=TIMELY_ACCOUNT,
        external_id=HEAVY_CONTACT,
        redacted_at__isnull=True,
        body__isnull=False,
    )
    plan = pending.only("id", "body", "headers").order_by("id").explain(analyze=True, buffers=True)
    lines += ["## the events to rebuild (webhooks.rebuild.rebuild_subject_copies)", "", "```", plan, "```", ""]

    # The rebuild UPDATE, with the binary parameters the erasure sends (the first batch's copies).
    if connection.vendor == "postgresql":
        provider = get_provider("timely")
        rows = list(pending.order_by("id").values_list("id", "body", "event_type", "headers")[:REBUILD_BATCH])
        bodies = [provider.rebuilt_body(json.loads(bytes(body)), event_type=kind) for _pk, body, kind, _h in rows]
        headers = [json.dumps(provider.rebuilt_headers(item)) for _pk, _body, _kind, item in rows]
        with transaction.atomic(), binary_parameters_cursor() as cursor:
            ids = [row[0] for row in rows]
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + rebuild_update_sql(), [timezone.now(), ids, bodies, headers])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
        lines += [f"## {len(rows)} copies' rebuild: {rebuild_update_sql()}", "", "```", plan, "```", ""]

    many = [query["sql"] for query in captured.captured_queries if " times: UPDATE " in query["sql"]]
    if many:  # payloads redacted one statement each (executemany, not PostgreSQL's unnest): explain one
        one = pending.values_list("pk", flat=True).first()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN (ANALYZE, BUFFERS) UPDATE webhooks_webhookevent SET body = %s, redacted_at = now() "
                "WHERE id = %s",
                [b"{}", one],
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
        lines += [f"## one payload's redaction; sent as: {many[0][:160]}", "", "```", plan, "```", ""]

    # The real erasures, timed end to end (one transaction each: the contact, 1,000 payloads, the log
    # record), of the contacts the rolled-back passes above did not touch.
    # Beside the wall time, the CPU the erasure took in this process and in its PostgreSQL backend (from
    # /proc, 10 ms ticks): on a shared machine the wall time also counts waiting for a core.
    timings, cpu = [], []
    others = Contact.objects.filter(external_id__startswith=HEAVY_PREFIX).exclude(pk=contact.pk).order_by("pk")
    for heavy in list(others):
        backend, own = backend_cpu_ms(), time.process_time()
        started = time.perf_counter()
        record = erase_contact(contact=heavy, **BENCH_REQUEST)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append(((time.process_time() - own) * 1000, backend_cpu_ms() - backend))
    summary = (
        f"erase_contact, {record.redacted_events} payloads each: "
        + ", ".join(f"{ms:.1f}" for ms in timings)
        + f" ms; median {statistics.median(timings):.1f} ms (target < 100 ms); CPU: "
        + ", ".join(f"{app:.0f}+{db:.0f}" for app, db in cpu)
        + f" ms (app + PostgreSQL), median {statistics.median(app + db for app, db in cpu):.0f} ms"
    )
    lines.insert(1, summary)
    scans = sequential_scans(lines)
    lines.insert(2, f"sequential scans of the big tables: {scans}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"    {summary}; {scans} sequential scans of the big tables; plans in {out}")


def backend_cpu_ms() -> float:
    """CPU time so far of this connection's PostgreSQL backend (same machine: /proc), in ms."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def profile() -> None:
    """cProfile over a few thousand requests through Django's handler (no HTTP server): where a
    request's time goes, by function."""
    from django.test import Client

    secrets = {"timely": os.environ["BENCH_TIMELY_SECRET"], "fpt": os.environ["BENCH_FPT_SECRET"]}
    requests = stream(total=4_000, secrets=secrets)
    client = Client(HTTP_HOST="127.0.0.1")
    for request in requests[:200]:  # warm-up: imports, connection, caches
        response = client.generic(
            "POST", request.path, request.body, content_type="application/json", headers=request.headers
        )
        assert response.status_code == 200, response.content
    plain, measured = requests[200:1600], requests[1600:]
    started = time.perf_counter()
    for request in plain:
        client.generic("POST", request.path, request.body, content_type="application/json", headers=request.headers)
    each_ms = (time.perf_counter() - started) / len(plain) * 1000
    print(f"    {len(plain)} requests in-process, not profiled: {each_ms:.2f} ms each")
    profiler = cProfile.Profile()
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    # An execute wrapper counts statements without the debug cursor (which would add its own cost).
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        profiler.enable()
        for request in measured:
            client.generic("POST", request.path, request.body, content_type="application/json", headers=request.headers)
        profiler.disable()
        elapsed = time.perf_counter() - started
    print(
        f"    {len(measured)} requests in-process: {elapsed / len(measured) * 1000:.2f} ms each (profiled), "
        f"{len(statements) / len(measured):.2f} statements each (transaction control not counted)"
    )
    for sort in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(sort).print_stats(30)
        print(f"\n--- top 30 by {sort} ---")
        print("\n".join(text.getvalue().splitlines()[6:]))


def backlog(size: int, offset: int) -> None:
    """Store ``size`` deliveries of the bench stream as the endpoint stores them in worker mode (the same
    columns, a deletion's body redacted, due at once), in bulk: a backlog for the worker to drain."""
    from webhooks.models import WebhookEvent

    secrets = {"timely": "unused", "fpt": "unused"}
    now = timezone.now()
    rows = []
    for request in stream(total=size, secrets=secrets, offset=offset):
        provider = get_provider(request.path.strip("/").split("/")[1])
        delivery = provider.parse(request.body)
        erasure = provider.is_erasure(delivery)
        rows.append(
            WebhookEvent(
                provider=provider.name, dedupe_key=delivery.dedupe_key, event_id=delivery.event_id,
                event_type=delivery.event_type, account_id=delivery.account_id, external_id=delivery.external_id,
                occurred_at=delivery.occurred_at, received_at=now, next_attempt_at=now, erasure=erasure,
                body=(provider.rebuilt_body(delivery.payload, event_type=delivery.event_type) if erasure
                      else request.body),
                redacted_at=now if erasure else None, headers={"Content-Type": "application/json"},
                signature_form="bench", remote_addr="127.0.0.1",
            )
        )  # fmt: skip
        if len(rows) == 2_000:
            WebhookEvent.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    WebhookEvent.objects.bulk_create(rows, ignore_conflicts=True)


def profile_worker(size: int) -> None:
    """cProfile of the worker draining a backlog in process: where a batch's time goes, by module."""
    from collections import defaultdict

    from webhooks.processing import process_due_batch

    backlog(size, offset=30_000_000)
    process_due_batch(size=100)  # warm-up: imports, connection, caches
    profiler = cProfile.Profile()
    done, started = 0, time.perf_counter()
    profiler.enable()
    while batch := process_due_batch(size=100):
        done += len(batch)
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"    {done} events drained in process (profiled): {elapsed / done * 1000:.3f} ms each")
    by_module = defaultdict(float)
    stats = pstats.Stats(profiler)
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
        parts = Path(filename).parts
        if "site-packages" in parts:
            module = parts[parts.index("site-packages") + 1]
        elif filename.startswith("~") or filename.startswith("<"):
            module = "builtins (incl. waiting for PostgreSQL in psycopg's C code)"
        else:
            module = "/".join(parts[-2:])
        by_module[module] += own
    total = sum(by_module.values())
    for module, own in sorted(by_module.items(), key=lambda item: -item[1])[:15]:
        print(f"    {own / total * 100:5.1f}%  {own / done * 1000:6.3f} ms/event  {module}")
    text = io.StringIO()
    stats.stream = text
    stats.strip_dirs().sort_stats("tottime").print_stats(25)
    print("\n".join(text.getvalue().splitlines()[6:]))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("load").add_argument("--size", type=int, required=True)
    backlog_parser = sub.add_parser("backlog")
    backlog_parser.add_argument("--size", type=int, required=True)
    backlog_parser.add_argument("--offset", type=int, default=20_000_000)
    sub.add_parser("profile_worker").add_argument("--size", type=int, default=5_000)
    sub.add_parser("erase").add_argument("--out", type=Path, required=True)
    sub.add_parser("explain_claim").add_argument("--out", type=Path, required=True)
    sub.add_parser("profile")
    args = parser.parse_args()
    if args.command == "load":
        load(args.size)
    elif args.command == "backlog":
        backlog(args.size, args.offset)
    elif args.command == "profile_worker":
        profile_worker(args.size)
    elif args.command == "erase":
        erase(args.out)
    elif args.command == "explain_claim":
        explain_claim(args.out)
    else:
        profile()


if __name__ == "__main__":
    sys.exit(main())
