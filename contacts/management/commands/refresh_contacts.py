from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from contacts.selectors import contacts_due_for_refresh
from contacts.tasks import enqueue_refresh


class Command(BaseCommand):
    help = (
        "Queue a look-up of every contact that needs one and is due (failed look-ups back off). "
        "Run it from cron with the immediate task backend, which cannot defer retries."
    )

    def add_arguments(self, parser):
        parser.add_argument("--provider", help="only this provider (one with a contact fetcher)")
        parser.add_argument("--limit", type=int, default=1000, help="at most this many contacts per run")

    def handle(self, *args, provider, limit, **options):
        if provider is not None and provider not in settings.CONTACT_FETCHERS:
            raise CommandError(f"no contact fetcher is configured for {provider!r}")
        due = list(contacts_due_for_refresh(now=timezone.now(), provider=provider).values_list("pk", flat=True)[:limit])
        for contact_pk in due:
            enqueue_refresh(contact_pk)
        self.stdout.write(f"{len(due)} contact(s) queued for a look-up")
