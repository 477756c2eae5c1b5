from django.core.management.base import BaseCommand

from contacts.services.erasure_log import verify_erasure_log


class Command(BaseCommand):
    help = (
        "Verify the erasure log's hash chain from the last verified checkpoint (--full: every record) and "
        "record the run. Exit 0 and 'OK <n> records' (n counts the whole chain), or exit 1 naming the first "
        "broken record."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Re-hash every record, not only the new ones.")

    def handle(self, *args, full=False, **options):
        # A full run shows its progress, on stderr so that stdout stays the one line scripts read.
        run = verify_erasure_log(full=full, progress_stream=self.stderr if full else None)
        if run.ok:
            self.stdout.write(f"OK {run.records} records")
            return
        where = f"at record {run.first_broken_sequence}" if run.first_broken_sequence else "before the checkpoint"
        self.stderr.write(f"BROKEN {where}: {run.detail}")
        raise SystemExit(1)
