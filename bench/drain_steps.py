"""The steps that drain a backlog: workers over stored events (rate, CPU, memory) and outbound messages."""

import json
import os
import subprocess
import time

import psycopg

from bench.common import (
    BIN,
    ROOT,
    backend_cpu,
    load,
    machine_cpu_ticks,
    process_cpu_seconds,
    rss_kib,
    say,
)


class DrainSteps:
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
