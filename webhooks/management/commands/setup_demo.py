from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.test import Client
from django.urls import reverse

from webhooks.demo import load_demo
from webhooks.models import WebhookEvent
from webhooks.providers import get_provider, provider_names
from webhooks.samples import sample_names, signed_sample

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105  (local demo only: refused unless DEBUG is on)


class Command(BaseCommand):
    help = "Local demo: an admin login and the documented sample events, sent through the real endpoint."

    def add_arguments(self, parser):
        parser.add_argument(
            "--address", default="127.0.0.1:8000", help="host:port the demo server listens on (make run's HOST)"
        )
        parser.add_argument(
            "--people", type=int, default=200, help="made-up contacts loaded on a new database (demo_contacts)"
        )

    def handle(self, *args, address, people, **options):
        if not settings.DEBUG:
            raise CommandError("setup_demo creates a known admin password: it only runs with DEBUG on")
        user_model = get_user_model()
        if not user_model.objects.filter(username=DEMO_USERNAME).exists():
            user_model.objects.create_superuser(DEMO_USERNAME, "admin@example.com", DEMO_PASSWORD)

        new_database = not WebhookEvent.objects.exists()
        client = Client(SERVER_NAME="localhost")
        for provider_name in provider_names():
            if not get_provider(provider_name).configured:
                self.stdout.write(self.style.WARNING(f"{provider_name}: no webhook secret configured, not sent"))
                continue
            url = reverse("webhooks:receive", args=[provider_name])
            # The fixtures' own ids: running the demo twice shows duplicates instead of new contacts.
            for event_name in demo_order(sample_names(provider_name)):
                body, headers = signed_sample(provider_name, event_name, fresh=False)
                response = client.generic(
                    "POST", url, body, content_type="application/json",
                    headers={k: v for k, v in headers.items() if k != "Content-Type"},
                )  # fmt: skip
                self.stdout.write(f"{provider_name} {event_name}: {response.status_code} {response.content.decode()}")
        if new_database and people:
            # Once, on a new database: people for search, the filters, the chart and the desk.
            answers = load_demo(people, seed=1)
            self.stdout.write(f"{people} made-up people loaded ({sum(answers.values())} deliveries: "
                              + ", ".join(f"{n} × {status}" for status, n in sorted(answers.items())) + ")")

        self.stdout.write(
            self.style.SUCCESS(
                f"\nDemo ready. Admin: http://{address}/admin/ (user {DEMO_USERNAME}, password {DEMO_PASSWORD})\n"
                "Erase the sample contact: .venv/bin/python manage.py send_test_webhook timely contact.deleted "
                f"--url http://{address}/webhooks/timely/\n"
                "Start the demo afresh: make demo-reset"
            )
        )


def demo_order(names: list[str]) -> list[str]:
    """Creations first, then the rest; deletions are left for the user to send and watch."""
    return sorted((name for name in names if "deleted" not in name), key=lambda name: ("created" not in name, name))
