from django.core.management.base import BaseCommand, CommandError

from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.replay import reprocess_events


class Command(BaseCommand):
    help = "Process stored webhook events again (by default every failed one)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--status", choices=WebhookEventStatus.values, help="replay events in this status (default: failed)"
        )
        parser.add_argument("--id", type=int, nargs="+", dest="ids", help="replay these event ids")

    def handle(self, *args, status, ids, **options):
        events = WebhookEvent.objects.all()
        if ids:
            events = events.filter(pk__in=ids)
            missing = set(ids) - set(events.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no such event: {', '.join(map(str, sorted(missing)))}")
        if status or not ids:
            events = events.filter(status=status or WebhookEventStatus.FAILED)
        replayed = reprocess_events(events)
        outcomes = dict.fromkeys(WebhookEventStatus.values, 0)
        for event_status in WebhookEvent.objects.filter(pk__in=replayed).values_list("status", flat=True):
            outcomes[event_status] += 1
        summary = ", ".join(f"{count} {name}" for name, count in outcomes.items() if count)
        self.stdout.write(f"Reprocessed {len(replayed)} event(s){': ' + summary if summary else ''}")
