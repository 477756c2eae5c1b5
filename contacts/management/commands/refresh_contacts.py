from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from contacts.services.refresh import refresh_due_contacts


class Command(BaseCommand):
    help = (
        "Look up now every contact that needs a look-up and is due (failed look-ups back off). "
        "webhook_worker does this between its batches; this runs one round by hand."
    )

    def add_arguments(self, parser):
        parser.add_argument("--provider", help="only this provider (one with a contact fetcher)")
        parser.add_argument("--limit", type=int, default=1000, help="at most this many contacts per run")

    def handle(self, *args, provider, limit, **options):
        if provider is not None and provider not in settings.CONTACT_FETCHERS:
            raise CommandError(f"no contact fetcher is configured for {provider!r}")
        looked_up = refresh_due_contacts(limit=limit, provider=provider)
        self.stdout.write(f"{looked_up} contact(s) looked up")
