"""Counters added up across processes without any configuration.

Under gunicorn's several workers each process counts only what it served, so ``/metrics`` is right only when
every process writes its counters to one directory (prometheus-client's multiprocess mode). When the operator
has named none (``PROMETHEUS_MULTIPROC_DIR``), the serving entry points (``config/wsgi.py``,
``config/asgi.py``, ``manage.py webhook_worker``) choose one themselves before prometheus-client is imported:
a private directory under the system's temporary directory, named after this installation (its code and its
database), so the web processes and the workers of one installation share it and two installations never do.

When that cannot be done (prometheus-client already imported, the directory unusable), the reason is kept and
``/metrics`` refuses to answer rather than serve one process's share as if it were the whole. Imports no app,
and prometheus-client only once the directory is chosen.

Each process leaves files named after its pid. A process that exits tells prometheus-client so
(``mark_process_dead``: its live gauges go); so does the first process of an installation for every dead
one, and when none of the installation's processes is alive (a restart), it deletes the dead ones' files:
the counters start again from zero, as one process's do, instead of piling up a file per pid forever.
While any process lives, dead ones' counters stay, so the sums never go down.
"""

import atexit
import hashlib
import os
import re
import stat
import sys
import tempfile
from pathlib import Path

from django.apps import apps

ENVIRONMENT_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# The directory this process chose by itself, or why it could not share its counters (both None: nothing was
# attempted, e.g. runserver or the tests, one process counting for itself).
chosen_directory: str | None = None
unshared_reason: str | None = None


def installation_directory(*, base_dir, database: dict) -> Path:
    """The default directory of one installation: the same for every process of it on this machine."""
    # Django's engine names the database's kind: the app's own PostgreSQL engine (config.db.postgresql) keeps
    # the directory an installation had on Django's, so a rolling upgrade does not split its counts.
    engine = database.get("ENGINE")
    engine = {"config.db.postgresql": "django.db.backends.postgresql"}.get(engine, engine)
    identity = "|".join(
        str(part) for part in (Path(base_dir).resolve(), engine, database.get("NAME"),
                               database.get("HOST"), database.get("PORT"))
    )  # fmt: skip
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"crm-sync-metrics-{os.getuid()}-{digest}"


def private_directory(path: Path) -> None:
    """Create ``path`` for this user alone, or raise OSError: a directory another user made (or a link) in a
    shared temporary directory could feed us counters or read ours."""
    path.mkdir(mode=0o700, exist_ok=True)
    status = path.lstat()
    if not stat.S_ISDIR(status.st_mode):
        raise OSError(f"{path} is not a directory")
    if status.st_uid != os.getuid():
        raise OSError(f"{path} belongs to another user")
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise OSError(f"{path} is writable by other users")


def share_counters_between_processes(settings) -> None:
    """Before the apps are loaded: make sure this process's counters go where every process's are read."""
    global chosen_directory, unshared_reason
    if settings.PROMETHEUS_MULTIPROC_DIR:
        # The operator's choice, which prometheus-client reads from the environment itself; emptied by the
        # service at start (docs/operations.md), told when this process exits.
        atexit.register(mark_dead, os.getpid(), Path(settings.PROMETHEUS_MULTIPROC_DIR))
        return
    if "prometheus_client" in sys.modules:
        if apps.ready:
            return  # set up by a one-process server (runserver) before it loaded this entry point
        unshared_reason = "prometheus-client was imported before a directory for shared counters could be chosen"
        return
    directory = installation_directory(base_dir=settings.BASE_DIR, database=settings.DATABASES["default"])
    try:
        private_directory(directory)
    except OSError as error:
        unshared_reason = f"no directory for shared counters ({error.strerror or error})"
        return
    os.environ[ENVIRONMENT_VARIABLE] = str(directory)
    chosen_directory = str(directory)
    clean_dead_processes(directory)
    atexit.register(mark_dead, os.getpid(), directory)


PID_IN_NAME = re.compile(r"_(\d+)\.db\Z")


def mark_dead(pid: int, directory: Path) -> None:
    """prometheus-client's bookkeeping for a process that has exited (its live gauges' files go)."""
    from prometheus_client.multiprocess import mark_process_dead

    mark_process_dead(pid, str(directory))


def clean_dead_processes(directory: Path) -> None:
    """Before this process counts: mark every process whose files are here and is gone as dead and, when no
    process that wrote here is alive, delete their files. Files of this process's own pid are a dead one's
    (a reused pid): this one has not counted yet."""
    files: dict[int, list[Path]] = {}
    for path in directory.glob("*.db"):
        if match := PID_IN_NAME.search(path.name):
            files.setdefault(int(match.group(1)), []).append(path)
    dead = {pid for pid in files if pid == os.getpid() or not alive(pid)}
    for pid in dead:
        mark_dead(pid, directory)
    if dead == set(files):
        for path in (path for pid in dead for path in files[pid]):
            path.unlink(missing_ok=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: not ours to judge
    return True
