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
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import BIN, load, say  # noqa: E402
from bench.drain_steps import DrainSteps  # noqa: E402
from bench.harness import Harness  # noqa: E402
from bench.http_steps import HttpSteps  # noqa: E402

STEPS = ("floor", "peer", "costs", "floor_apply", "worker", "inline", "drain", "sustained", "latency", "memory",
         "scale", "profile", "profile_worker", "outbound")
DEFAULT_STEPS = ("floor", "peer", "worker", "inline", "drain", "latency", "memory")


class Bench(Harness, HttpSteps, DrainSteps):
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
