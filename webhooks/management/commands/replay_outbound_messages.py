from django.core.management.base import BaseCommand

from webhooks.outbound.models import OutboundMessage, OutboundStatus
from webhooks.outbound.queue import replay_messages


class Command(BaseCommand):
    help = (
        "Make outbound messages due again with a fresh give-up time (default: every failed one); "
        "webhook_worker delivers them under their same webhook-id."
    )

    def add_arguments(self, parser):
        parser.add_argument("--id", dest="ids", nargs="+", default=[], help="message ids (webhook-id) to replay")
        parser.add_argument("--system", help="only messages to this system (its name)")

    def handle(self, *args, ids, system, **options):
        messages = (
            OutboundMessage.objects.filter(message_id__in=ids)
            if ids
            else OutboundMessage.objects.filter(status=OutboundStatus.FAILED)
        )
        if system:
            messages = messages.filter(endpoint__label=system)
        self.stdout.write(f"{replay_messages(messages)} message(s) due again")
