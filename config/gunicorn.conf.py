"""gunicorn's configuration for crm-sync: ``gunicorn -c config/gunicorn.conf.py`` (docs/production.md).

Slow or lying clients must not stop intake. A sync worker serves one request at a time and reads its
body for as long as the client takes: a client that declares a longer Content-Length than it sends holds
that worker until ``timeout`` kills it, so three such connections stopped every delivery. Here each worker
serves ``threads`` requests at once (gthread: a connection only takes a thread once it has sent
something), and a body that stops arriving for ``BODY_READ_TIMEOUT_SECONDS`` ends its request with a 408,
freeing the thread. A buffering reverse proxy in front (docs/production.md) is the second line: it
holds slow uploads itself and hands gunicorn only whole requests.

Command-line flags override any value here (``--workers 5``), as do ``GUNICORN_CMD_ARGS``.
"""

import os

wsgi_app = "config.wsgi"
bind = "127.0.0.1:8000"
# Three processes suit two cores (the work is short and mostly waits on the database); the threads are
# what many slow clients use up first. Each thread keeps its own database connection (CONN_MAX_AGE).
workers = 3
worker_class = "gthread"
threads = 8
# A worker whose main loop stops answering the arbiter this long is restarted.
timeout = 30
keepalive = 5

# Longest silence while reading one request's body before the request is given up (408).
BODY_READ_TIMEOUT_SECONDS = 10


def pre_request(worker, req):
    """Bound every read of this request's body: gthread reads on a blocking socket with no timeout."""
    sock = getattr(getattr(req, "unreader", None), "sock", None)  # HTTP/1 requests read from their socket
    if sock is not None:
        sock.settimeout(BODY_READ_TIMEOUT_SECONDS)


def child_exit(server, worker):
    """A worker killed without running its exit handlers: prometheus-client's bookkeeping for it (its live
    gauges go). A directory the workers chose themselves is cleaned by the next one to start
    (config/shared_counters.py)."""
    if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import mark_process_dead

        mark_process_dead(worker.pid, directory)
