"""The ``sustained`` step of bench/run.py: web and workers sharing the machine under a steady stream.

gunicorn (worker mode) and one, then two, ``webhook_worker`` processes; a paced client offers a constant
rate for ``--sustained-seconds`` (60) and records, per delivery, when it was sent and when its 200 came
back with the event's id. Per offered rate: what was answered, ingest p99 (send → 200), and the apply lag
(200 → the event's ``processed_at``) p50 / p99, and whether anything was left behind (still ``received``
``--sustained-grace`` seconds after the last answer). The rates are fractions of this run's bound,
1 / (1/ingest + 1/drain): on these two cores the web and the worker share the CPU, so an event costs its
ingest and its drain. The result: the highest rate whose apply-lag p99 is ≤ 1 s with nothing left behind.

The client: ``--sustained-connections`` (16) threads, each with its own keep-alive connection, sending on a
fixed schedule (open loop: a thread that falls behind sends at once, and the delay counts in its latency,
so a slow server is not offered less).
"""

import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.events import stream

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)

LAG_TARGET_MS = 1000.0


def paced(port: int, requests: list, rate: float, connections: int) -> list[tuple[int | None, float, float]]:
    """Send ``requests`` at ``rate`` per second; per request: (event id or None, scheduled time, latency s)."""
    start = time.time() + 0.5
    results: list = [None] * len(requests)

    def sender(first: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for n in range(first, len(requests), connections):
            due = start + n / rate
            if (wait := due - time.time()) > 0:
                time.sleep(wait)
            request = requests[n]
            try:
                connection.request("POST", request.path, request.body,
                                   {"Content-Type": "application/json", **request.headers})  # fmt: skip
                response = connection.getresponse()
                body = response.read()
                answered = time.time()
                event = int(body.split(b'"event":', 1)[1].strip(b" }\n")) if response.status == 200 else None
            except (OSError, http.client.HTTPException, IndexError, ValueError):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                answered, event = time.time(), None
            results[n] = (event, answered, answered - due)
        connection.close()

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def load() -> str:
    return "load " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def measure(bench, workers: int, rate: float, say) -> dict:
    args = bench.args
    db = f"{args.db_prefix}_sustained"
    env = bench.migrate(db)
    log_files = [(bench.work / f"sustained-{workers}-{rate:.0f}-{n}.log").open("wb") for n in range(workers)]
    command = [str(PYTHON), str(ROOT / "manage.py"), "webhook_worker"]
    processes = []
    try:
        with bench.gunicorn(env, "config.wsgi", f"sustained-{workers}-{rate:.0f}"):
            processes = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
                         for log in log_files]  # fmt: skip
            bench.processes.extend(processes)
            warmup = stream(total=200, secrets=bench.secrets, offset=50_000_000)
            paced(args.port, warmup, min(rate, 200.0), args.sustained_connections)
            bench.settle()
            total = int(rate * args.sustained_seconds)
            requests = stream(total=total, secrets=bench.secrets, offset=60_000_000)
            before = load()
            sent = paced(args.port, requests, rate, args.sustained_connections)
            last = max(answered for _e, answered, _l in sent)
            time.sleep(max(0.0, last + args.sustained_grace - time.time()))
            left = bench.query(db, "SELECT count(*) FROM webhooks_webhookevent WHERE status = 'received'")[0][0]
            after = load()
    finally:
        for process in processes:
            bench.stop(process)
        for log in log_files:
            log.close()
    processed = dict(bench.query(db, "SELECT id, extract(epoch FROM processed_at) FROM webhooks_webhookevent"
                                     " WHERE processed_at IS NOT NULL"))  # fmt: skip
    answered = [(event, at, latency) for event, at, latency in sent if event is not None]
    lags = [(float(processed[event]) - at) * 1000 for event, at, _l in answered if event in processed]
    span = max(at for _e, at, _l in sent) - min(at - latency for _e, at, latency in sent)
    result = {
        "workers": workers,
        "offered": rate,
        "achieved": len(answered) / span,
        "errors": len(sent) - len(answered),
        "ingest_p99_ms": percentile([latency * 1000 for _e, _a, latency in answered], 0.99),
        "lag_p50_ms": percentile(lags, 0.5),
        "lag_p99_ms": percentile(lags, 0.99),
        "left": left,
    }
    result["ok"] = result["lag_p99_ms"] <= LAG_TARGET_MS and not left and not result["errors"]
    say(
        f"  {workers} worker(s), offered {rate:6.1f}/s: answered {result['achieved']:6.1f}/s,"
        f" errors {result['errors']},"
        f" ingest p99 {result['ingest_p99_ms']:7.1f} ms, apply lag p50 {result['lag_p50_ms']:7.1f} ms"
        f" p99 {result['lag_p99_ms']:8.1f} ms, left behind {left}  {'ok' if result['ok'] else 'MISSED'}"
        f"  [{before} → {after}]"
    )
    bench.done_with(db)
    return result


def run(bench, say) -> dict:
    """Per worker count, the offered rates in increasing order until one misses the lag target."""
    results = bench.results
    if "worker-mode ingest" not in results:
        bench.run_worker()
    if "drain" not in results:
        bench.run_drain()
    ingest, drain = results["worker-mode ingest"]["rps"], results["drain"]["one"]["rate"]
    bound = 1 / (1 / ingest + 1 / drain)
    say(f"  bound 1/(1/ingest + 1/drain) = 1/(1/{ingest:.0f} + 1/{drain:.0f}) = {bound:.0f} events/s")
    found = {}
    for workers in (1, 2):
        best = None
        for fraction in bench.args.sustained_rates:
            result = measure(bench, workers, fraction * bound, say)
            if not result["ok"]:
                break
            best = result
        found[workers] = best
        share = f"{best['offered']:.0f}/s = {best['offered'] / bound:.2f}x the bound" if best else "none"
        say(f"  {workers} worker(s): highest rate with apply-lag p99 ≤ 1 s, nothing left behind: {share}")
    return {"bound": bound, "best": found}
