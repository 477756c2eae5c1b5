"""Operations bench (PostgreSQL, a throwaway database that this script migrates and fills):

DATABASE_URL=postgres://…/scratch python -m bench.operations [--records N] [--events N]

1. ``verify_erasure_log --full`` and the default run (from the checkpoint) over an erasure log of N
   records (1,000,000 by default), with 0 and with 1,000 records appended since the checkpoint.
2. One /metrics scrape over N webhook events (2,000 of them pending): its statements and their plans.
Figures go to docs/performance.md (Operations).
"""

import argparse
import os
import time
from datetime import UTC, datetime

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from config.ops.metrics_view import DatabaseCollector  # noqa: E402
from contacts.models import ErasureRecord  # noqa: E402
from contacts.services.erasure_log import verify_erasure_log  # noqa: E402

COPY_FIELDS = [f for f in ErasureRecord._meta.concrete_fields if not f.primary_key]


def append_records(count: int) -> None:
    """COPY ``count`` chained records after the current head, hashed exactly as the app hashes them."""
    head = ErasureRecord.objects.order_by("-sequence").only("sequence", "hash").first()
    sequence, prev_hash = (head.sequence, head.hash) if head else (0, ErasureRecord.GENESIS_HASH)
    now = datetime.now(UTC)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in COPY_FIELDS)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY contacts_erasurerecord ({columns}) FROM STDIN") as copy:  # noqa: S608
            for n in range(sequence + 1, sequence + count + 1):
                record = ErasureRecord(
                    sequence=n, provider="timely", account_id="ws_bench", external_id=f"cont_{n}",
                    event_id=f"evt_{n}", requested_by="usr_1", requested_by_type="attendant", deleted_at=now,
                    erased_at=now, reason="timely: deleted", erased_fields=["name", "phone", "email"],
                    redacted_events=3, prev_hash=prev_hash,
                )  # fmt: skip
                record.hash = prev_hash = record.compute_hash()
                copy.write_row([f.get_db_prep_save(f.pre_save(record, True), connection) for f in COPY_FIELDS])
        cursor.execute("VACUUM ANALYZE contacts_erasurerecord")


def timed(label: str, **options) -> None:
    started = time.perf_counter()
    run = verify_erasure_log(**options)
    seconds = time.perf_counter() - started
    assert run.ok, run.detail
    print(f"{label:<48} {seconds:8.2f} s   OK {run.records} records, {run.rehashed} re-hashed")


def bench_verification(records: int) -> None:
    started = time.perf_counter()
    append_records(records)
    print(f"loaded {records:,} chained records in {time.perf_counter() - started:.1f} s")
    timed("verify_erasure_log --full", full=True)
    timed("verify_erasure_log (checkpoint, nothing new)")
    append_records(1000)
    timed("verify_erasure_log (checkpoint, 1,000 new)")
    timed("verify_erasure_log --full (again)", full=True)


def bench_scrape(events: int) -> None:
    with connection.cursor() as cursor:
        # Processed events spread over a year, then 2,000 pending: the shape of a real log.
        cursor.execute(
            """INSERT INTO webhooks_webhookevent (provider, dedupe_key, event_id, event_type, account_id,
                 external_id, received_at, status, status_reason, changed_fields, drift, actor_id, actor_type,
                 attempts, headers, signature_form)
               SELECT CASE WHEN n %% 3 = 0 THEN 'fpt' ELSE 'timely' END, 'evt_' || n, 'evt_' || n,
                 'contact.updated', 'ws_bench', 'cont_' || (n %% 100000),
                 now() - make_interval(secs => (%s - n) * 30), CASE WHEN n > %s - 2000 THEN 'received'
                 ELSE 'processed' END, '', '[]', '[]', '', '', 1, '{}', 'timely-timestamped'
               FROM generate_series(1, %s) AS n""",
            [events, events, events],
        )
        cursor.execute("VACUUM ANALYZE webhooks_webhookevent")
    with CaptureQueriesContext(connection) as queries:
        list(DatabaseCollector().collect())
    print(f"\none scrape over {events:,} events: {len(queries)} queries")
    for query in queries.captured_queries:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            print("\n" + query["sql"] + "\n" + "\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run against a throwaway PostgreSQL database"
    call_command("migrate", verbosity=0)
    bench_verification(args.records)
    bench_scrape(args.events)


if __name__ == "__main__":
    main()
