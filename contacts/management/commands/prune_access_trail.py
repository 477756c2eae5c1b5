from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from contacts.access import prune_access_trail


class Command(BaseCommand):
    help = (
        "Delete access trail rows (and django-axes' login records) older than N days "
        "(default ACCESS_LOG_RETENTION_DAYS). Schedule it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="keep this many days")

    def handle(self, *args, days, **options):
        days = settings.ACCESS_LOG_RETENTION_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days must be 0 or more")
        cutoff, trail, logins = prune_access_trail(older_than_days=days)
        self.stdout.write(
            f"Deleted {trail} access trail row(s) and {logins} login record(s) from before {cutoff.isoformat()}"
        )
