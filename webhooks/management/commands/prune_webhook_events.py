from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from webhooks.retention import purge_old_payloads


class Command(BaseCommand):
    help = (
        "Drop the raw payloads of webhook events older than N days (default PAYLOAD_RETENTION_DAYS). "
        "The rows and their dedupe keys stay; each run is recorded as a payload purge."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="keep payloads this many days")

    def handle(self, *args, days, **options):
        days = settings.PAYLOAD_RETENTION_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days must be 0 or more")
        purge = purge_old_payloads(older_than_days=days, by="cli", progress_stream=self.stderr)
        self.stdout.write(f"Purged {purge.events} payload(s) received before {purge.cutoff.isoformat()}")
