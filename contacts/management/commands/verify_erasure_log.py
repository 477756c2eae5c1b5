from django.core.management.base import BaseCommand

from contacts.services import verify_erasure_log


class Command(BaseCommand):
    help = (
        "Recompute the erasure log's hash chain and record the run. "
        "Exit 0 and 'OK <n> records', or exit 1 naming the first broken record."
    )

    def handle(self, *args, **options):
        run = verify_erasure_log()
        if run.ok:
            self.stdout.write(f"OK {run.records} records")
            return
        self.stderr.write(f"BROKEN at record {run.first_broken_sequence}: {run.detail}")
        raise SystemExit(1)
