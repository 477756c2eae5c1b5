"""What one delivery costs the database, in process through Django's handler (run by bench/run.py's
``costs`` step with the app's or the peer's environment):

    python -m bench.costs [--requests N]

Each request runs between the server's connection upkeep (``close_old_connections``), so a reused
connection's health check is counted as served. Per delivery of the bench stream (after a warm-up):
statements (transaction control not counted), commits (explicit ones, and statements that wrote outside
any transaction: each commits on its own), the app's CPU and the wall time (the round trips and the
server's work with it), and on SQLite how long each delivery holds the write lock (from its ``BEGIN
IMMEDIATE``, or its first write outside a transaction, to its answer): with one writer at a time, the most
deliveries a second SQLite can take is one over that.
"""

import argparse
import os
import statistics
import time

import django

django.setup()

from django.db import close_old_connections, connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.events import stream  # noqa: E402

WRITES = ("INSERT", "UPDATE", "DELETE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--label", default="app")
    args = parser.parse_args()
    secrets = {"timely": os.environ["TIMELY_WEBHOOK_SECRETS"], "fpt": os.environ["FPT_WEBHOOK_SECRETS"]}
    requests = stream(total=args.warmup + args.requests, secrets=secrets, offset=30_000_000)
    client = Client(HTTP_HOST="127.0.0.1")

    def post(request):
        # What a server's handler does around each request and the test client leaves out: without it the
        # per-request health check of a reused connection (CONN_HEALTH_CHECKS) would never run here.
        close_old_connections()
        response = client.generic(
            "POST", request.path, request.body, content_type="application/json", headers=request.headers
        )
        close_old_connections()
        assert response.status_code == 200, response.content
        return response

    for request in requests[: args.warmup]:
        post(request)
    measured = requests[args.warmup :]

    # CPU first, without any statement logging.
    cpu, wall = time.process_time(), time.perf_counter()
    for request in measured[: len(measured) // 2]:
        post(request)
    cpu_ms = (time.process_time() - cpu) * 1000 / (len(measured) // 2)
    wall_ms = (time.perf_counter() - wall) * 1000 / (len(measured) // 2)

    statements, implicit_commits, holds = 0, 0, []
    lock_taken = [None]

    def watch(execute, sql, params, many, context):
        word = sql.lstrip().split(" ", 1)[0].upper()
        if (word == "BEGIN" or (word in WRITES and connection.get_autocommit())) and lock_taken[0] is None:
            lock_taken[0] = time.perf_counter()
        return execute(sql, params, many, context)

    explicit = rollbacks = 0
    with connection.execute_wrapper(watch):
        for request in measured[len(measured) // 2 :]:
            lock_taken[0] = None
            reset_queries()  # the log keeps 9,000 statements: a capture past that would see none
            with CaptureQueriesContext(connection) as captured:
                post(request)
            answered = time.perf_counter()
            if lock_taken[0] is not None:
                holds.append((answered - lock_taken[0]) * 1000)
            for query in captured.captured_queries:
                sql = query["sql"].lstrip()
                word = sql.split(" ", 1)[0].upper()
                if word == "COMMIT":
                    explicit += 1
                elif word == "ROLLBACK":
                    rollbacks += 1
                elif word != "BEGIN":
                    statements += 1
    # Writes outside a transaction, counted apart: a second pass with the wrapper only (the debug cursor
    # would not say whether a statement ran under autocommit).
    n = len(measured) - len(measured) // 2

    def autocommitted(execute, sql, params, many, context):
        nonlocal implicit_commits
        if sql.lstrip().split(" ", 1)[0].upper() in WRITES and connection.get_autocommit():
            implicit_commits += 1
        return execute(sql, params, many, context)

    more = stream(total=n, secrets=secrets, offset=40_000_000)
    with connection.execute_wrapper(autocommitted):
        for request in more:
            post(request)
    vendor = connection.vendor
    print(
        f"    {args.label} on {vendor},"
        f" per delivery: {statements / n:.2f} statements, {(explicit + implicit_commits) / n:.2f} commits"
        f" ({explicit / n:.2f} explicit, {implicit_commits / n:.2f} single statements), {rollbacks / n:.3f} rollbacks;"
        f" app CPU {cpu_ms:.2f} ms, wall {wall_ms:.2f} ms"
    )
    if vendor == "sqlite" and holds:
        holds.sort()
        print(
            f"    write lock held per delivery: median {statistics.median(holds):.2f} ms,"
            f" p90 {holds[int(len(holds) * 0.9)]:.2f} ms: at most {1000 / statistics.mean(holds):.0f} deliveries/s"
        )


if __name__ == "__main__":
    main()
