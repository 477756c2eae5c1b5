"""The outbound step of the bench: one webhook_worker delivering a backlog of erasure messages.

    python -m bench.outbound receive --port P [--delay S]   a receiver on 127.0.0.1 answering 204 (after S s)
    python -m bench.outbound queue --system NAME=URL --messages N   N messages to each system (app environment)
    python -m bench.outbound span --system NAME   delivered messages and the span of their tries, as JSON

bench/run.py's ``outbound`` step: a backlog to a fast receiver alone (the rate, against the floor's ingest
rate of the same run), then the same backlog with a second system whose receiver takes 5 s per answer (the
fast system's rate again: how much the slow one slowed it).
"""

import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def receive(port: int, delay: float) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if delay:
                time.sleep(delay)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def queue(systems: list[str], messages: int) -> None:
    import django

    django.setup()
    from django.utils import timezone

    from webhooks.outbound.models import OutboundEndpoint, OutboundMessage
    from webhooks.outbound.queue import configure_endpoint

    secret = "whsec_" + "YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldA=="
    now = timezone.now()
    for system in systems:
        name, url = system.split("=", 1)
        configure_endpoint(key=name, label=name, url=url, secrets=[secret], active=True)
        endpoint = OutboundEndpoint.objects.get(key=name)
        for start in range(0, messages, 1000):
            OutboundMessage.objects.bulk_create(
                OutboundMessage(
                    message_id=f"msg_bench_{name}_{n}", endpoint=endpoint, event_type="contact.erased",
                    body=json.dumps({"type": "contact.erased", "timestamp": now.isoformat(), "data": {"id": n}}),
                    created_at=now, next_attempt_at=now, retry_since=now,
                )
                for n in range(start, min(start + 1000, messages))
            )  # fmt: skip


def span(system: str) -> None:
    import django

    django.setup()
    from django.db.models import Count, Max, Min

    from webhooks.outbound.models import OutboundMessage

    row = OutboundMessage.objects.filter(endpoint__label=system, status="delivered").aggregate(
        n=Count("id"), first=Min("attempt_log__attempted_at"), last=Max("attempt_log__attempted_at")
    )
    seconds = (row["last"] - row["first"]).total_seconds() if row["n"] else 0.0
    print(json.dumps({"delivered": row["n"], "seconds": seconds}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("receive", "queue", "span"))
    parser.add_argument("--port", type=int)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--system", action="append", default=[])
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    if args.mode == "receive":
        receive(args.port, args.delay)
    elif args.mode == "queue":
        queue(args.system, args.messages)
    else:
        span(args.system[0])


if __name__ == "__main__":
    sys.exit(main())
