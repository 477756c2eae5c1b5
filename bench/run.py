"""The benchmark: the webhook path against the floor of a durable receiver, same stack, same run.

    make bench     # = .venv/bin/python bench/run.py: the floor, worker-mode ingest, inline mode, a
                   #   50,000-event backlog drained by 1 then 2 webhook_workers (CPU per event), an idle
                   #   worker's latency, one worker's memory over 100,000 events; ratios at the end
    .venv/bin/python bench/run.py --only floor,worker --requests 10000 --repeat 3
    .venv/bin/python bench/run.py --only scale     # per-event cost at 10k and 1M rows, erasure plans
    .venv/bin/python bench/run.py --only profile   # cProfile of the request path, in-process

Needs PostgreSQL (``--pg``, the user may create databases) and ``wrk`` (``apt-get install -y wrk``). Every
database it uses starts with ``--db-prefix`` and is dropped and recreated; the servers listen on
127.0.0.1 only, and everything it starts is stopped before it exits.
"""

import argparse
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.events import stream, write_wrk_file  # noqa: E402

BIN = Path(sys.executable).parent
STEPS = ("floor", "peer", "costs", "floor_apply", "worker", "inline", "drain", "sustained", "latency", "memory",
         "scale", "profile", "profile_worker", "outbound")
DEFAULT_STEPS = ("floor", "peer", "worker", "inline", "drain", "latency", "memory")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def say(message: str) -> None:
    print(message, flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.secrets = {"timely": secrets.token_urlsafe(32), "fpt": secrets.token_urlsafe(32)}
        self.secret_key = secrets.token_urlsafe(60)
        self.work = Path(tempfile.mkdtemp(prefix="crm-sync-bench-"))
        self.results: dict[str, dict] = {}
        self.processes: list[subprocess.Popen] = []
        self.server: subprocess.Popen | None = None

    # --- databases ----------------------------------------------------------------------------------
    def url(self, name: str) -> str:
        if self.args.sqlite:
            return f"sqlite:///{self.work / name}.sqlite3"
        return f"{self.args.pg}/{name}"

    def connect(self, name: str):
        """A monitoring connection to a step's database (autocommit), whichever the run uses."""
        if self.args.sqlite:
            return contextlib.closing(sqlite3.connect(self.work / f"{name}.sqlite3", isolation_level=None))
        return psycopg.connect(self.url(name), autocommit=True)

    def recreate_db(self, name: str, template: str | None = None) -> None:
        if self.args.sqlite:
            self.drop_db(name)
            if template:
                shutil.copyfile(self.work / f"{template}.sqlite3", self.work / f"{name}.sqlite3")
            return
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def drop_db(self, name: str) -> None:
        if self.args.sqlite:
            for suffix in ("", "-wal", "-shm"):
                (self.work / f"{name}.sqlite3{suffix}").unlink(missing_ok=True)
            return
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def query(self, name: str, sql: str):
        with self.connect(name) as conn:
            return conn.execute(sql).fetchall()

    # --- processes ----------------------------------------------------------------------------------
    def env(self, db: str, *, settings: str = "config.settings.production", processing: str = "worker") -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TIMELY_", "FPT_"))}
        env.update(
            DJANGO_SETTINGS_MODULE=settings,
            SECRET_KEY=self.secret_key,
            DEBUG="false",
            DATABASE_URL=self.url(db),
            CONN_MAX_AGE="60",
            SECURE_SSL_REDIRECT="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            TIMELY_WEBHOOK_SECRETS=self.secrets["timely"],
            FPT_WEBHOOK_SECRETS=self.secrets["fpt"],
            WEBHOOK_PROCESSING=processing,
            LOG_LEVEL=self.args.log_level,
            PYTHONPATH=str(ROOT),
        )
        return env

    def manage(self, env: dict, *command: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "python"), str(ROOT / "manage.py"), *command], env=env, cwd=ROOT, check=True, **kwargs
        )

    def migrate(self, db: str, *, floor: bool = False, app: str = "floor") -> dict:
        self.recreate_db(db)
        if floor:
            env = self.env(db, settings=f"bench.{app}.settings")
            subprocess.run([str(BIN / "django-admin"), "migrate", "--run-syncdb", "-v0"], env=env, cwd=ROOT, check=True)
        else:
            env = self.env(db)
            self.manage(env, "migrate", "-v0")
        return env

    @contextlib.contextmanager
    def gunicorn(self, env: dict, app: str, log_name: str):
        log = (self.work / f"{log_name}.log").open("wb")
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                app,
                "--workers",
                str(self.args.workers),
                "--bind",
                f"127.0.0.1:{self.args.port}",
                "--chdir",
                str(ROOT),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        try:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.args.port), 0.2):
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {log.name}")
                time.sleep(0.2)
            self.server = process
            yield process
        finally:
            self.server = None
            self.stop(process)
            log.close()

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(ValueError):
            self.processes.remove(process)

    def stop_all(self) -> None:
        for process in list(self.processes):
            self.stop(process)

    # --- load ---------------------------------------------------------------------------------------
    def requests_file(self, name: str, total: int, *, offset: int) -> Path:
        path = self.work / f"{name}.requests"
        write_wrk_file(stream(total=total, secrets=self.secrets, offset=offset), path)
        return path

    def wrk(self, requests_path: Path, *, db: str, table: str) -> dict:
        """Replay a request file; stop wrk (SIGINT: it prints its summary) once every thread has all its
        answers. If the server stops storing for 10 s, stop anyway and report what was answered."""
        expected = sum(1 for _ in requests_path.open("rb"))
        done_dir = Path(tempfile.mkdtemp(dir=self.work))
        env = {
            **os.environ,
            "BENCH_REQUESTS": str(requests_path),
            "BENCH_THREADS": str(self.args.threads),
            "BENCH_DONE_DIR": str(done_dir),
        }
        command = [
            "wrk",
            f"-t{self.args.threads}",
            f"-c{self.args.connections}",
            "-d3600s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "wrk.lua"),
            f"http://127.0.0.1:{self.args.port}",
        ]
        before = load()
        with self.connect(db) as conn:
            cpu_before = self.cpu_snapshot(conn, db)
            # Backends by pid, last seen every 2 s: a run longer than CONN_MAX_AGE (60 s) replaces the
            # servers' connections, and a backend gone by the end still did this run's work until then.
            backends_seen = dict(cpu_before["postgres"])
            baseline = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
            stored_sql = f"SELECT count(*) FROM {table} WHERE id > {int(baseline)}"
            process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
            self.processes.append(process)
            progress, progress_at, checked_at = -1, time.monotonic(), 0.0
            while process.poll() is None:
                time.sleep(0.05)
                if len(list(done_dir.iterdir())) == self.args.threads:
                    break
                if time.monotonic() - checked_at > 2:
                    checked_at = time.monotonic()
                    backends_seen.update(self.backend_cpu(conn, db))
                    stored = conn.execute(stored_sql).fetchone()[0]
                    if stored != progress:
                        progress, progress_at = stored, checked_at
                    elif checked_at - progress_at > 10:
                        say(f"    nothing stored for 10 s at {stored}/{expected}: stopping")
                        break
            cpu_after = self.cpu_snapshot(conn, db, wrk=process.pid)  # while wrk runs: its own CPU counts too
            backends_seen.update(cpu_after["postgres"])
            started = cpu_before["postgres"]
            cpu_before["postgres"] = 0.0
            cpu_after["postgres"] = sum(cpu - started.get(pid, 0.0) for pid, cpu in backends_seen.items())
            process.send_signal(signal.SIGINT)
            output = process.communicate(timeout=30)[0]
            self.processes.remove(process)
        line = next(line for line in output.splitlines() if line.startswith("BENCH_RESULT "))
        result = json.loads(line.removeprefix("BENCH_RESULT "))
        answered = result["accepted"] + result["duplicates"] + result["failed"]
        result["expected"], result["answered"] = expected, answered
        result["rps"] = answered / (result["duration_us"] / 1e6)
        result["load_before"], result["load_after"] = before, load()
        result["cpu_ms"] = {
            name: (cpu_after[name] - cpu_before.get(name, 0.0)) * 1000 / max(answered, 1) for name in cpu_after
        }
        return result

    def drive(self, label: str, env: dict, app: str, *, total: int, offset: int):
        """Warm up (imports, connections), then replay ``total`` fresh signed requests."""
        db = env["DATABASE_URL"].rsplit("/", 1)[1].removesuffix(".sqlite3")
        tables = {"bench.floor.wsgi": "floor_floorevent", "bench.peer.wsgi": "peer_peerevent"}
        table = tables.get(app, "webhooks_webhookevent")
        warmup = self.requests_file(f"{label}-warmup", self.args.warmup, offset=10_000_000 + offset)
        with self.gunicorn(env, app, label):
            self.wrk(warmup, db=db, table=table)
            requests_path = self.requests_file(label, total, offset=offset)
            self.settle()
            result = self.wrk(requests_path, db=db, table=table)
        self.report(label, result)
        self.results[label] = result
        return result

    def settle(self, timeout: float = 60.0) -> None:
        """Let PostgreSQL's background work from earlier steps finish before measuring, so that a step run
        later is not charged for it: a checkpoint (dirty buffers written now, not during the run), then
        wait while autovacuum workers are busy (the previous steps' fresh tables, the warm-up's rows).
        On SQLite: a pause only."""
        if self.args.sqlite:
            time.sleep(2)
            return
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute("CHECKPOINT")
            deadline = time.monotonic() + timeout
            busy_sql = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
            while conn.execute(busy_sql).fetchone()[0] and time.monotonic() < deadline:
                time.sleep(0.5)
        time.sleep(2)

    def done_with(self, db: str) -> None:
        """Drop a step's database once reported (unless BENCH_KEEP), so autovacuum does not work on it
        during the next step."""
        if not os.environ.get("BENCH_KEEP"):
            self.drop_db(db)

    def report(self, label: str, r: dict) -> None:
        errors = r["failed"] + r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
        say(
            f"  {label:<22} {r['rps']:8.1f} req/s  p50 {r['p50_us'] / 1000:6.2f} ms  p99 {r['p99_us'] / 1000:6.2f} ms"
            f"  answered {r['answered']}/{r['expected']} (dup {r['duplicates']})  errors {errors}"
            f"  [{r['load_before']} → {r['load_after']}]"
        )
        say("    CPU per request: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in r["cpu_ms"].items()))

    def backend_cpu(self, conn, db: str) -> dict[int, float]:
        return {} if self.args.sqlite else backend_cpu(conn, db)

    def cpu_snapshot(self, conn, db: str, *, wrk: int | None = None) -> dict:
        """CPU seconds so far of what serves this run: the server's process tree (gunicorn's master and
        workers, or the floor's), the PostgreSQL backends connected to this run's database, and wrk. By
        process id, so the other programs on a shared machine are not counted."""
        snapshot = {"gunicorn": tree_cpu_seconds(self.server.pid) if self.server else 0.0}
        snapshot["postgres"] = self.backend_cpu(conn, db)
        if wrk is not None:
            snapshot["wrk"] = process_cpu_seconds(wrk)
        return snapshot

    # --- steps --------------------------------------------------------------------------------------
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

    def backlog_db(self, name: str, size: int, offset: int) -> tuple[str, dict]:
        """A database holding ``size`` due events of the stream (stored in bulk as worker-mode ingest stores
        them), analyzed as autovacuum would after such a burst."""
        db = f"{self.args.db_prefix}_{name}"
        env = self.migrate(db)
        started = time.monotonic()
        subprocess.run(
            [str(BIN / "python"), "-m", "bench.profiles", "backlog", "--size", str(size), "--offset", str(offset)],
            env=env, cwd=ROOT, check=True,
        )  # fmt: skip
        with psycopg.connect(self.url(db), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        say(f"  backlog of {size:,} events stored in {time.monotonic() - started:.0f} s")
        return db, env

    def run_drain(self):
        """A --backlog of due events drained by 1, then 2 workers, each from an identical copy."""
        source, env = self.backlog_db("backlog", self.args.backlog, 20_000_000)
        drains = {}
        for workers in (1, 2):
            db = f"{self.args.db_prefix}_drain{workers}"
            self.recreate_db(db, template=source)
            self.settle()
            drains[workers] = self.drain(db, env, workers, label=f"drain, {workers} worker(s)")
            self.drop_db(db)
        self.drop_db(source)
        self.results["drain"] = {"one": drains[1], "two": drains[2], "speedup": drains[2]["rate"] / drains[1]["rate"]}
        say(f"  two workers vs one: {drains[2]['rate'] / drains[1]['rate']:.2f}x (target ≥ 1.3x)")

    def run_sustained(self):
        """A constant offered rate for --sustained-seconds, gunicorn beside 1 then 2 workers (bench/sustained.py)."""
        from bench import sustained

        self.results["sustained"] = sustained.run(self, say)

    def run_memory(self):
        """One worker's resident memory, sampled while it drains --memory-events events."""
        db, env = self.backlog_db("memory", self.args.memory_events, 40_000_000)
        self.settle()
        result = self.drain(db, env, 1, label="memory drain, 1 worker", rss=True)
        self.results["memory"] = result
        self.drop_db(db)

    def drain(self, db: str, env: dict, workers: int, *, label: str, rss: bool = False) -> dict:
        """Start ``workers`` webhook_workers on a backlog; wait until nothing is received; their CPU and
        PostgreSQL's per event (from /proc), the rate over the span of the events' processed_at."""
        env = {**env, "DATABASE_URL": self.url(db)}
        pending = self.query(db, "SELECT count(*) FROM webhooks_webhookevent WHERE status = 'received'")[0][0]
        before = load()
        logs = [(self.work / f"{label.replace(' ', '_')}-{n}.log").open("wb") for n in range(workers)]
        command = [str(BIN / "python"), str(ROOT / "manage.py"), "webhook_worker", "--batch-size", str(self.args.batch)]
        processes = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT) for log in logs]
        self.processes.extend(processes)
        started, samples, next_sample = time.monotonic(), [], time.monotonic()
        with psycopg.connect(self.url(db), autocommit=True) as conn:
            first = None
            left_sql = "SELECT count(*) FROM webhooks_webhookevent WHERE status = 'received'"
            while True:
                left = conn.execute(left_sql).fetchone()[0]
                if left < pending and first is None:
                    # Counted from the first batch on: the workers' start (imports, ~2 s of CPU) is not a
                    # cost per event, and would be most of it for a short drain.
                    first = (sum(process_cpu_seconds(p.pid) for p in processes), backend_cpu(conn, db),
                             machine_cpu_ticks(), conn.execute("SELECT now()").fetchone()[0])  # fmt: skip
                if rss and time.monotonic() >= next_sample:
                    samples.append((time.monotonic() - started, rss_kib(processes[0].pid), pending - left))
                    next_sample += self.args.rss_interval
                if not left:
                    if first is None:
                        raise RuntimeError("drained before the first look: too small a backlog to measure")
                    break
                if any(p.poll() is not None for p in processes):
                    raise RuntimeError(f"a webhook_worker exited; see {self.work}")
                time.sleep(0.25)
            worker_cpu = sum(process_cpu_seconds(p.pid) for p in processes) - first[0]
            backends_after, machine_after = backend_cpu(conn, db), machine_cpu_ticks()
            _cpu, backends_before, machine_before, drain_started = first
            done, span = conn.execute(
                "SELECT count(*), extract(epoch FROM max(processed_at) - min(processed_at)) "
                "FROM webhooks_webhookevent WHERE processed_at > %s",
                [drain_started],
            ).fetchone()
        if rss:
            samples.append((time.monotonic() - started, rss_kib(processes[0].pid), pending))
        for process in processes:
            self.stop(process)
            if process.returncode != 0:
                raise RuntimeError(f"a webhook_worker exited with {process.returncode}; see {self.work}")
        for log in logs:
            log.close()
        rate = done / float(span)
        postgres_cpu = sum(cpu - backends_before.get(pid, 0.0) for pid, cpu in backends_after.items())
        machine = {name: machine_after[name] - machine_before[name] for name in machine_after}
        cores_total = sum(machine.values())
        result = {
            "events": done,
            "rate": rate,
            "worker_cpu_ms": worker_cpu * 1000 / done,
            "postgres_cpu_ms": postgres_cpu * 1000 / done,
            # Of all the cores' time during the drain (/proc/stat): idle, waiting for I/O, and busy with
            # anything other than these workers and their PostgreSQL backends (other engineers' work).
            "idle": machine["idle"] / cores_total,
            "iowait": machine["iowait"] / cores_total,
            "others": max(0.0, 1 - (machine["idle"] + machine["iowait"]) / cores_total
                          - (worker_cpu + postgres_cpu) / (cores_total / os.sysconf("SC_CLK_TCK"))),
        }  # fmt: skip
        say(
            f"  {label:<24} {done} events in {float(span):6.1f} s = {rate:7.1f} events/s"
            f"  CPU per event: workers {result['worker_cpu_ms']:.2f} ms, PostgreSQL {result['postgres_cpu_ms']:.2f} ms"
            f"  [{before} → {load()}]"
        )
        cores_used = rate * (result["worker_cpu_ms"] + result["postgres_cpu_ms"]) / 1000
        say(
            f"    cores' time: idle {result['idle']:.0%}, I/O wait {result['iowait']:.0%},"
            f" other processes {result['others']:.0%}; this drain's CPU = {cores_used:.2f} cores"
        )
        self.print_statuses(db)
        if samples:
            result["rss"] = samples
            say(
                "    worker RSS (s, MiB, events done): "
                + ", ".join(f"({t:.0f}, {kib / 1024:.1f}, {n})" for t, kib, n in samples if kib)
            )
        return result

    def run_outbound(self):
        """--outbound-messages to a fast receiver by one worker, alone, then beside a receiver taking 5 s."""
        alone = self.outbound_drain("alone", slow=False)
        beside_slow = self.outbound_drain("beside a 5 s receiver", slow=True)
        self.results["outbound"] = {"alone": alone, "beside_slow": beside_slow}
        say(f"  fast system's rate beside the slow one vs alone: {beside_slow / alone:.2f}x (target ≥ 0.9x)")

    def outbound_drain(self, label: str, *, slow: bool) -> float:
        db = f"{self.args.db_prefix}_outbound"
        env = {**self.migrate(db), "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8"}
        module = [str(BIN / "python"), "-m", "bench.outbound"]
        fast_port, slow_port = self.args.port + 1, self.args.port + 2
        receivers = [subprocess.Popen([*module, "receive", "--port", str(fast_port)], cwd=ROOT)]
        systems = ["--system", f"fast=http://127.0.0.1:{fast_port}/hook"]
        if slow:
            receivers.append(subprocess.Popen([*module, "receive", "--port", str(slow_port), "--delay", "5"], cwd=ROOT))
            systems += ["--system", f"slow=http://127.0.0.1:{slow_port}/hook"]
        self.processes.extend(receivers)
        count = self.args.outbound_messages
        subprocess.run([*module, "queue", *systems, "--messages", str(count)], env=env, cwd=ROOT, check=True)
        self.settle()
        before = load()
        log = (self.work / f"outbound-{int(slow)}.log").open("wb")
        worker = subprocess.Popen(
            [str(BIN / "python"), str(ROOT / "manage.py"), "webhook_worker"], env=env, cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.processes.append(worker)
        delivered_sql = "SELECT count(*) FROM webhooks_outboundmessage m JOIN webhooks_outboundendpoint e ON e.id = m.endpoint_id WHERE e.label = 'fast' AND m.status = 'delivered'"  # noqa: E501
        while self.query(db, delivered_sql)[0][0] < count:
            if worker.poll() is not None:
                raise RuntimeError(f"the webhook_worker exited; see {log.name}")
            time.sleep(0.5)
        self.stop(worker)
        log.close()
        result = json.loads(
            subprocess.run([*module, "span", "--system", "fast"], env=env, cwd=ROOT, check=True, capture_output=True,
                           text=True).stdout  # fmt: skip
        )
        for receiver in receivers:
            self.stop(receiver)
        rate = result["delivered"] / result["seconds"]
        say(f"  outbound, {label:<22} {result['delivered']} messages in {result['seconds']:6.1f} s = {rate:7.1f}/s"
            f"  [{before} → {load()}]")  # fmt: skip
        self.done_with(db)
        return rate

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

    def run_scale(self):
        """Per-event cost with a small and a large table (bulk-loaded), and the erasure of a contact with
        1,000 stored events at the large size."""
        for size in self.args.scale_sizes:
            db = f"{self.args.db_prefix}_scale"
            env = self.migrate(db)
            say(f"  bulk-loading {size:,} contacts and {size:,} events …")
            started = time.monotonic()
            subprocess.run(
                [str(BIN / "python"), "-m", "bench.scale", "load", "--size", str(size)], env=env, cwd=ROOT, check=True
            )
            say(f"    loaded in {time.monotonic() - started:.0f} s")
            ingest = self.drive(f"worker ingest @ {size:,}", env, "config.wsgi", total=self.args.requests, offset=0)
            results = ROOT / "bench" / "results"
            self.scale_script(env, "explain_claim", "--out", str(results / f"batch-{size}.txt"))
            self.settle()
            drain = self.drain(db, env, 1, label=f"drain @ {size:,}, 1 worker")
            self.scale_script(env, "erase", "--out", str(results / f"erasure-{size}.txt"))
            self.results.setdefault("scale", {})[size] = {"ingest": ingest, "drain": drain}
            self.drop_db(db)

    @staticmethod
    def scale_script(env: dict, *arguments: str) -> None:
        subprocess.run([str(BIN / "python"), "-m", "bench.scale", *arguments], env=env, cwd=ROOT, check=True)

    def run_profile_worker(self):
        db = f"{self.args.db_prefix}_profile_worker"
        env = self.migrate(db)
        subprocess.run([str(BIN / "python"), "-m", "bench.profiles", "profile_worker"], env=env, cwd=ROOT, check=True)
        self.drop_db(db)

    def run_profile(self):
        db = f"{self.args.db_prefix}_profile"
        env = {**self.migrate(db), "WEBHOOK_PROCESSING": self.args.profile_processing}
        env["BENCH_TIMELY_SECRET"], env["BENCH_FPT_SECRET"] = self.secrets["timely"], self.secrets["fpt"]
        subprocess.run([str(BIN / "python"), "-m", "bench.profiles", "profile"], env=env, cwd=ROOT, check=True)
        self.drop_db(db)

    def ratios(self) -> dict[str, float]:
        """This run's figures as ratios (within the run: the machine's speed drifts between runs)."""
        r, ratios = self.results, {}
        floor = r.get("floor")
        if floor and "worker-mode ingest" in r:
            ratios["worker ingest throughput vs floor"] = r["worker-mode ingest"]["rps"] / floor["rps"]
            ratios["worker ingest p99 vs floor"] = r["worker-mode ingest"]["p99_us"] / floor["p99_us"]
        if floor and "inline" in r:
            ratios["inline throughput vs floor"] = r["inline"]["rps"] / floor["rps"]
            ratios["inline p99 vs floor"] = r["inline"]["p99_us"] / floor["p99_us"]
        if (peer := r.get("peer")) and floor:
            ratios["peer throughput vs floor"] = peer["rps"] / floor["rps"]
        if peer and "inline" in r:
            ratios["inline throughput vs peer"] = r["inline"]["rps"] / peer["rps"]
            ratios["inline p99 vs peer"] = r["inline"]["p99_us"] / peer["p99_us"]
            ratios["peer req/s"], ratios["inline req/s"] = peer["rps"], r["inline"]["rps"]
        if "drain" in r:
            if floor:
                ratios["one worker's drain vs floor ingest"] = r["drain"]["one"]["rate"] / floor["rps"]
            ratios["two workers vs one"] = r["drain"]["speedup"]
            ratios["worker CPU ms/event (1 worker)"] = r["drain"]["one"]["worker_cpu_ms"]
            ratios["PostgreSQL CPU ms/event (1 worker)"] = r["drain"]["one"]["postgres_cpu_ms"]
            ratios["events/s, 1 worker"] = r["drain"]["one"]["rate"]
            ratios["events/s, 2 workers"] = r["drain"]["two"]["rate"]
            ratios["worker CPU ms/event (2 workers)"] = r["drain"]["two"]["worker_cpu_ms"]
            ratios["PostgreSQL CPU ms/event (2 workers)"] = r["drain"]["two"]["postgres_cpu_ms"]
            ratios["cores idle, 1 worker"] = r["drain"]["one"]["idle"]
            ratios["cores idle, 2 workers"] = r["drain"]["two"]["idle"]
        if "outbound" in r:
            if floor:
                ratios["one worker's outbound delivery vs floor ingest"] = r["outbound"]["alone"] / floor["rps"]
            ratios["outbound messages/s, 1 worker"] = r["outbound"]["alone"]
            beside, alone = r["outbound"]["beside_slow"], r["outbound"]["alone"]
            ratios["fast system's rate beside a 5 s one vs alone"] = beside / alone
        if "sustained" in r:
            bound = r["sustained"]["bound"]
            ratios["sustained bound events/s"] = bound
            for workers, best in r["sustained"]["best"].items():
                name = f"sustained, {workers} worker(s): best rate vs the bound"
                ratios[name] = best["offered"] / bound if best else 0.0
        if floor:
            ratios["floor req/s"] = floor["rps"]
        if "latency" in r:
            ratios["idle worker 200→applied p50 ms"] = r["latency"]["p50"]
        for size, figures in r.get("scale", {}).items():
            ingest, drain = figures["ingest"], figures["drain"]
            ratios[f"ingest CPU ms/request @ {size:,}"] = ingest["cpu_ms"]["gunicorn"] + ingest["cpu_ms"]["postgres"]
            ratios[f"drain CPU ms/event @ {size:,}"] = drain["worker_cpu_ms"] + drain["postgres_cpu_ms"]
        if "memory" in r:
            samples = [kib for _t, kib, _n in r["memory"]["rss"] if kib]
            ratios["worker RSS growth over the memory drain, MiB"] = (samples[-1] - samples[1]) / 1024
        return ratios


def summary(runs: list[dict[str, float]]) -> None:
    if not runs or not runs[0]:
        return
    say(f"\nsummary over {len(runs)} run(s): median [range]")
    for name in runs[0]:
        values = [run[name] for run in runs if name in run]
        say(f"  {name:<45} {statistics.median(values):9.2f}  [{min(values):.2f} – {max(values):.2f}]")


def backend_cpu(conn, db: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to ``db`` (persistent connections: the
    servers' and the workers'), by process id; the monitoring connection's own is left out."""
    pids = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [db]
    ).fetchall()
    cpu = {}
    for (pid,) in pids:
        with contextlib.suppress(OSError):
            cpu[pid] = process_cpu_seconds(pid)
    return cpu


def machine_cpu_ticks() -> dict[str, int]:
    """All cores' time so far from /proc/stat's first line, in clock ticks: idle, I/O wait, the rest."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    user, nice, system, idle, iowait, irq, softirq = values
    return {"idle": idle, "iowait": iowait, "busy": user + nice + system + irq + softirq}


def tree_cpu_seconds(root: int) -> float:
    """CPU of a process and its live descendants, plus what its reaped children used (cutime, cstime)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            text = stat.read_text()
            children.setdefault(int(text[text.rindex(")") + 2 :].split()[1]), []).append(int(stat.parent.name))
    total, pending = 0.0, [root]
    while pending:
        pid = pending.pop()
        with contextlib.suppress(OSError):
            total += process_cpu_seconds(pid, with_reaped_children=True)
        pending.extend(children.get(pid, []))
    return total


def process_cpu_seconds(pid: int, *, with_reaped_children: bool = False) -> float:
    """User + system CPU of a running process so far (from /proc/<pid>/stat), and optionally what its
    exited children used once reaped."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    used = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        used += int(fields[13]) + int(fields[14])
    return used / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(DEFAULT_STEPS), help=f"comma-separated steps of {STEPS}")
    parser.add_argument("--sqlite", action="store_true",
                        help="the HTTP steps on SQLite files, with the project's settings")  # fmt: skip
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db-prefix", default="crm_sync_bench")
    parser.add_argument("--port", type=int, default=8140)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (both apps)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--requests", type=int, default=20_000, help="requests per measured run")
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--backlog", type=int, default=50_000, help="events the drain step stores, then drains")
    parser.add_argument("--batch", type=int, default=100, help="the workers' --batch-size")
    parser.add_argument("--outbound-messages", type=int, default=20_000, help="messages of the outbound step")
    parser.add_argument("--memory-events", type=int, default=100_000, help="events of the memory step's drain")
    parser.add_argument("--rss-interval", type=float, default=10.0, help="seconds between RSS samples")
    parser.add_argument("--sustained-seconds", type=float, default=60.0, help="each offered rate's duration")
    parser.add_argument("--sustained-rates", type=lambda s: [float(x) for x in s.split(",")],
                        default=[0.6, 0.75, 0.85, 0.95, 1.05],
                        help="offered rates, fractions of the bound 1/(1/ingest + 1/drain), increasing")  # fmt: skip
    parser.add_argument("--sustained-connections", type=int, default=16, help="the paced client's connections")
    parser.add_argument("--sustained-grace", type=float, default=2.0,
                        help="seconds after the last answer until what is still received is left behind")  # fmt: skip
    parser.add_argument("--latency-events", type=int, default=200, help="deliveries the latency step times")
    parser.add_argument("--latency-gap", type=float, default=0.05, help="seconds between them (the worker idles)")
    parser.add_argument("--repeat", type=int, default=1, help="run the steps this many times; medians at the end")
    parser.add_argument("--scale-sizes", type=lambda s: [int(x) for x in s.split(",")], default=[10_000, 1_000_000])
    parser.add_argument("--profile-processing", choices=("worker", "inline"), default="worker",
                        help="WEBHOOK_PROCESSING of the profile step's requests")  # fmt: skip
    parser.add_argument("--log-level", default="INFO", help="LOG_LEVEL of the app (production default: INFO)")
    args = parser.parse_args()

    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk   (Debian/Ubuntu)")
    steps = [s.strip() for s in args.only.split(",") if s.strip()]
    if unknown := set(steps) - set(STEPS):
        sys.exit(f"unknown steps: {', '.join(sorted(unknown))}")

    say(
        f"crm-sync bench: {os.cpu_count()} CPUs, {load()}, gunicorn {args.workers} sync workers,"
        f" wrk -t{args.threads} -c{args.connections}"
    )
    say("streams: 70% Timely, 30% FPT; 30% created, 69% updates, 1% deletions")
    runs = []
    for repeat in range(args.repeat):
        bench = Bench(args)
        try:
            for step in steps:
                say(f"\n[{step}] (run {repeat + 1} of {args.repeat})")
                getattr(bench, f"run_{step}")()
            runs.append(bench.ratios())
            summary(runs[-1:])
        finally:
            bench.stop_all()
            if not os.environ.get("BENCH_KEEP"):
                shutil.rmtree(bench.work, ignore_errors=True)
    if args.repeat > 1:
        summary(runs)


if __name__ == "__main__":
    main()
