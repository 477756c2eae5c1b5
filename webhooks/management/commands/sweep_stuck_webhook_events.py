from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from webhooks.replay import sweep_stuck_events


class Command(BaseCommand):
    help = (
        "Enqueue again the webhook events still 'received' long after they arrived or were due for a retry "
        "(their task was lost). Run it periodically and when workers start."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=600,
            metavar="SECONDS",
            help="only events received (or due for a retry) at least this long ago (default: 600)",
        )
        parser.add_argument("--limit", type=int, default=1000, help="at most this many events per run")

    def handle(self, *args, older_than, limit, **options):
        if older_than < 0 or limit < 1:
            raise CommandError("--older-than must be >= 0 and --limit >= 1")
        swept = sweep_stuck_events(older_than=timedelta(seconds=older_than), limit=limit)
        self.stdout.write(f"Re-enqueued {len(swept)} stuck event(s)")
