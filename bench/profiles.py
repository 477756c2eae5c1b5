"""In-process profiles and backlogs of the bench (run by bench/run.py with the app's environment):

python -m bench.profiles profile           cProfile of the request path through Django's handler
python -m bench.profiles backlog --size N  store N deliveries as worker-mode ingest would, in bulk (a backlog)
python -m bench.profiles profile_worker    cProfile of a worker draining a backlog in process, by module
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

import django

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.events import stream  # noqa: E402
from webhooks.providers import get_provider  # noqa: E402


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
    backlog_parser = sub.add_parser("backlog")
    backlog_parser.add_argument("--size", type=int, required=True)
    backlog_parser.add_argument("--offset", type=int, default=20_000_000)
    sub.add_parser("profile_worker").add_argument("--size", type=int, default=5_000)
    sub.add_parser("profile")
    args = parser.parse_args()
    if args.command == "backlog":
        backlog(args.size, args.offset)
    elif args.command == "profile_worker":
        profile_worker(args.size)
    else:
        profile()


if __name__ == "__main__":
    sys.exit(main())
