"""What every step of the bench shares: where things are, the load average, and the CPU and memory of the
processes a step starts, read from ``/proc`` by process id (a shared machine's other programs are not
counted)."""

import contextlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def say(message: str) -> None:
    print(message, flush=True)


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
