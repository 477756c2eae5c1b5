from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from contacts.requests import prune_data_subject_requests


class Command(BaseCommand):
    help = (
        "Clear data-subject requests closed more than N days ago (default DSR_RETENTION_DAYS): their links "
        "to the person and staff and their free text go; kind, dates, outcome and erasure records stay. "
        "Schedule it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="keep closed requests this many days")

    def handle(self, *args, days, **options):
        days = settings.DSR_RETENTION_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days must be 0 or more")
        cutoff, cleared = prune_data_subject_requests(older_than_days=days)
        self.stdout.write(f"Cleared {cleared} data-subject request(s) closed before {cutoff.isoformat()}")
