from django.core.management.base import BaseCommand, CommandError

from webhooks.demo import load_demo


class Command(BaseCommand):
    help = (
        "Make up Brazilian contacts (Faker, pt_BR) with updates, tags, owners and a few erasures, and send what "
        "each configured provider would send about them through the real endpoint, signed, in-process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=200, help="people to make up (default: 200)")
        parser.add_argument("--seed", type=int, default=1, help="the same seed makes the same people (default: 1)")

    def handle(self, *args, count, seed, **options):
        if count < 1:
            raise CommandError("--count must be at least 1")
        answers = load_demo(count, seed=seed)
        summary = ", ".join(f"{n} × {status}" for status, n in sorted(answers.items()))
        self.stdout.write(f"{count} demo people sent: {summary or 'nothing (no provider has a secret)'}")
        if set(answers) - {200}:
            raise CommandError("some deliveries were refused (see the status codes above)")
