from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from config.ops.failures import describe_failure
from webhooks.worker import WebhookWorker


class Command(BaseCommand):
    help = (
        "Apply due webhook events in batches (and look up contacts due for a refresh, and deliver outbound "
        "messages) until SIGTERM, which "
        "lets the current batch finish. --once: drain what is due now and exit (from cron in inline mode)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="drain what is due, then exit")
        parser.add_argument("--batch-size", type=int, default=100, help="events per transaction (default: 100)")

    def handle(self, *args, once, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        worker = WebhookWorker(batch_size=batch_size, once=once, progress_stream=self.stderr)
        try:
            done = worker.run()
        except DatabaseError as exc:
            raise CommandError(f"the database is unavailable ({describe_failure(exc)})") from None
        if once:
            self.stdout.write(f"{done} event(s) applied")
            if worker.messages_tried:
                self.stdout.write(f"{worker.messages_tried} outbound message(s) tried")
