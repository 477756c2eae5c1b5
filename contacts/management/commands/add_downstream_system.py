from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator
from django.db import IntegrityError

from contacts.models import DownstreamKind, DownstreamSystem
from contacts.services.downstream import new_secret, save_downstream_system, secret_problem


class Command(BaseCommand):
    help = (
        "Add a downstream system to tell of every erasure: a webhook system (--url, signed with --secret or a "
        "generated one, printed once) or a manual one (--manual: someone deletes there and confirms)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="unique name (shown in the erasure record and the API)")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--url", help="where erasure messages are posted (https://, or http:// inside "
                                          "OUTBOUND_ALLOWED_NETWORKS)")  # fmt: skip
        target.add_argument("--manual", action="store_true", help="no messages: each erasure awaits confirmation")
        parser.add_argument("--secret", help="the signing secret (whsec_…); without it one is generated")
        parser.add_argument("--note", default="", help="what data about contacts this system holds")

    def handle(self, *args, name, url, manual, secret, note, **options):
        name = name.strip()
        if not name:
            raise CommandError("--name must not be empty")
        if manual and secret:
            raise CommandError("--secret is for webhook systems (--url), not --manual ones")
        if DownstreamSystem.objects.filter(name=name).exists():
            raise CommandError(f"a downstream system named {name!r} exists already")
        generated = False
        if not manual:
            try:
                URLValidator(schemes=["http", "https"])(url)
            except Exception:  # noqa: BLE001  (Django's ValidationError: say it plainly)
                raise CommandError("--url must be an http:// or https:// URL") from None
            if secret is None:
                secret, generated = new_secret(), True
            elif problem := secret_problem(secret):
                raise CommandError(f"--secret: {problem}")
        system = DownstreamSystem(
            name=name, kind=DownstreamKind.MANUAL if manual else DownstreamKind.WEBHOOK, url=url or "",
            secrets=[] if manual else [secret], note=note,
        )  # fmt: skip
        try:
            save_downstream_system(system)
        except IntegrityError:
            raise CommandError(f"a downstream system named {name!r} exists already") from None
        self.stdout.write(f"added {system.get_kind_display()} system {name!r}")
        if generated:
            self.stdout.write("its signing secret (shown this once; give it to the receiving team):")
            self.stdout.write(secret)
