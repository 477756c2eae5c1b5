"""The bench's harness: its databases, the app under gunicorn, wrk replays and their figures."""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from bench.common import (
    BIN,
    ROOT,
    backend_cpu,
    load,
    process_cpu_seconds,
    say,
    tree_cpu_seconds,
)
from bench.events import stream, write_wrk_file


class Harness:
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
