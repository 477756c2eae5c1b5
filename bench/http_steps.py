"""The HTTP steps: the floor, the peer, crm-sync inline and worker-mode ingest, per-delivery costs, the
sustained load and an idle worker's latency."""

import http.client
import json
import statistics
import subprocess
import time

from bench.common import (
    BIN,
    ROOT,
    say,
)
from bench.events import stream


class HttpSteps:
    def run_floor(self):
        self.run_floor_app("floor", "floor", {}, counted=("stored rows", "floor_floorevent"))

    def run_peer(self):
        """The typical peer (bench/peer/): dj-stripe's shape, hand-written, inline, default middleware."""
        db = f"{self.args.db_prefix}_peer"
        env = self.migrate(db, floor=True, app="peer")
        self.drive("peer", env, "bench.peer.wsgi", total=self.args.requests, offset=0)
        say(f"    stored events: {self.query(db, 'SELECT count(*) FROM peer_peerevent')[0][0]}, processed:"
            f" {self.query(db, 'SELECT count(*) FROM peer_peerevent WHERE processed')[0][0]}")  # fmt: skip
        self.done_with(db)

    def run_costs(self):
        """Per delivery, in process: statements, commits, app CPU; on SQLite the write lock's hold
        (bench/costs.py), for the floor, the peer and inline."""
        for label, app in (("floor", "floor"), ("peer", "peer"), ("inline", None)):
            db = f"{self.args.db_prefix}_costs_{label}"
            env = self.migrate(db, floor=app is not None, app=app or "floor")
            env["WEBHOOK_PROCESSING"] = "inline"
            with (self.work / f"costs-{label}.log").open("wb") as log:  # the app's log lines
                subprocess.run([str(BIN / "python"), "-m", "bench.costs", "--label", label], env=env, cwd=ROOT,
                               check=True, stderr=log)  # fmt: skip
            self.done_with(db)

    def run_floor_apply(self):
        """The floor plus, after its commit, a second transaction applying the event to a one-index contact
        row by last-write-wins and marking the event processed: the spec's immediate flow at its least."""
        rows = ("contacts", "floor_floorcontact")
        self.run_floor_app("floor + apply", "floor_apply", {"FLOOR_APPLY": "true"}, counted=rows)

    def run_floor_app(self, label: str, name: str, options: dict, *, counted: tuple[str, str]):
        db = f"{self.args.db_prefix}_{name}"
        env = {**self.migrate(db, floor=True), **options}
        self.drive(label, env, "bench.floor.wsgi", total=self.args.requests, offset=0)
        what, table = counted
        say(f"    {what}: {self.query(db, f'SELECT count(*) FROM {table}')[0][0]}")  # noqa: S608 (our own names)
        self.done_with(db)

    def run_inline(self):
        """The full path, inline: verify, store, apply (last-write-wins), record the outcome, in the request."""
        db = f"{self.args.db_prefix}_inline"
        env = {**self.migrate(db), "WEBHOOK_PROCESSING": "inline"}
        self.drive("inline", env, "config.wsgi", total=self.args.requests, offset=0)
        self.print_statuses(db)
        self.done_with(db)

    def run_worker(self):
        """Ingest with workers: the request only stores (no worker runs: the events stay due)."""
        db = f"{self.args.db_prefix}_worker"
        env = self.migrate(db)
        self.drive("worker-mode ingest", env, "config.wsgi", total=self.args.requests, offset=0)
        self.print_statuses(db)
        self.done_with(db)

    def print_statuses(self, db: str) -> None:
        rows = self.query(db, "SELECT status, count(*) FROM webhooks_webhookevent GROUP BY 1 ORDER BY 1")
        say("    events: " + ", ".join(f"{status} {count}" for status, count in rows))

    def run_sustained(self):
        """A constant offered rate for --sustained-seconds, gunicorn beside 1 then 2 workers (bench/sustained.py)."""
        from bench import sustained

        self.results["sustained"] = sustained.run(self, say)

    def run_latency(self):
        """An idle worker: how long from a delivery's 200 to the event applied (its processed_at)."""
        db = f"{self.args.db_prefix}_latency"
        env = self.migrate(db)
        requests = stream(total=self.args.latency_events + 20, secrets=self.secrets)
        log = (self.work / "latency-worker.log").open("wb")
        worker = subprocess.Popen(
            [str(BIN / "python"), str(ROOT / "manage.py"), "webhook_worker"], env=env, cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.processes.append(worker)
        answered = []
        with self.gunicorn(env, "config.wsgi", "latency"):
            for n, request in enumerate(requests):
                connection = http.client.HTTPConnection("127.0.0.1", self.args.port, timeout=10)
                connection.request(
                    "POST", request.path, request.body, {"Content-Type": "application/json", **request.headers}
                )
                response = connection.getresponse()
                answer = json.loads(response.read())
                at = time.time()
                connection.close()
                if n >= 20:  # the first ones warm up the server's and the worker's connections
                    answered.append((answer["event"], at))
                time.sleep(self.args.latency_gap)
            time.sleep(1)
        self.stop(worker)
        log.close()
        processed = dict(
            self.query(
                db,
                "SELECT id, extract(epoch FROM processed_at) FROM webhooks_webhookevent WHERE processed_at IS NOT NULL",
            )
        )
        latencies = sorted((float(processed[pk]) - at) * 1000 for pk, at in answered if pk in processed)
        missing = len(answered) - len(latencies)
        result = {
            "p50": statistics.median(latencies),
            "p90": latencies[int(len(latencies) * 0.9)],
            "max": latencies[-1],
            "missing": missing,
        }
        self.results["latency"] = result
        say(
            f"  idle worker, {len(answered)} events {self.args.latency_gap * 1000:.0f} ms apart, 200 to applied:"
            f" p50 {result['p50']:.1f} ms, p90 {result['p90']:.1f} ms, max {result['max']:.1f} ms;"
            f" not applied {missing}"
        )
        self.done_with(db)
