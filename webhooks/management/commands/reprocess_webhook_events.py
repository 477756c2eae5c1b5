from django.core.management.base import BaseCommand, CommandError

from config.ops.progress import progress
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.replay import reprocess_events


class Command(BaseCommand):
    help = "Process stored webhook events again (by default every failed one), in batches, with progress on stderr."

    def add_arguments(self, parser):
        parser.add_argument(
            "--status", choices=WebhookEventStatus.values, help="replay events in this status (default: failed)"
        )
        parser.add_argument("--id", type=int, nargs="+", dest="ids", help="replay these event ids")
        parser.add_argument("--batch-size", type=int, default=500, help="events queued per transaction (default: 500)")

    def handle(self, *args, status, ids, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        events = WebhookEvent.objects.all()
        if ids:
            events = events.filter(pk__in=ids)
            missing = set(ids) - set(events.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no such event: {', '.join(map(str, sorted(missing)))}")
        if status or not ids:
            events = events.filter(status=status or WebhookEventStatus.FAILED)
        # Ids first: replaying changes the status we selected on, so the selection must not move.
        selected = list(events.exclude(body__isnull=True).order_by("id").values_list("pk", flat=True))
        skipped = events.filter(body__isnull=True).count()
        total = len(selected)
        self.stdout.write(
            f"Reprocessing {total} event(s)" + (f" ({skipped} without payload skipped)" if skipped else "")
        )
        replayed = 0
        outcomes = dict.fromkeys(WebhookEventStatus.values, 0)
        with progress(total=total, desc="reprocessing", stream=self.stderr, unit="events") as bar:
            for start in range(0, total, batch_size):
                batch = reprocess_events(WebhookEvent.objects.filter(pk__in=selected[start : start + batch_size]))
                replayed += len(batch)
                # Inline the batch is applied by now; with workers it is due, still `received`.
                for event_status in WebhookEvent.objects.filter(pk__in=batch).values_list("status", flat=True):
                    outcomes[event_status] += 1
                bar.update(len(batch))
        summary = ", ".join(f"{count} {name}" for name, count in outcomes.items() if count)
        self.stdout.write(self.style.SUCCESS(f"Reprocessed {replayed} event(s){': ' + summary if summary else ''}"))
