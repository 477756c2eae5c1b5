import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contacts.erasure_export import InvalidExport, reapply_erasures
from contacts.services.rebuild import rebuild_erased_copies


class Command(BaseCommand):
    help = (
        "After restoring the database from a backup: erase again every contact whose erasure is in the "
        "export (from `export_erasure_log`) but not in the restored log, appending their records to the chain; "
        "then rebuild every erased contact's stored copies (as `rebuild_erased_copies`)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", required=True, dest="source", help="the file export_erasure_log wrote")

    def handle(self, *args, source, **options):
        try:
            document = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror}") from None
        except ValueError:
            raise CommandError(f"{source} is not JSON (expected the file export_erasure_log wrote)") from None
        try:
            report = reapply_erasures(document, progress_stream=self.stderr)
        except InvalidExport as exc:
            raise CommandError(f"{source}: {exc}; nothing was changed") from None
        self.stdout.write(
            f"{report.missing} exported record(s) missing from the restored log: erased {len(report.erased)} "
            f"contact(s) again, {report.already_erased} already erased, {report.reactivated} reactivated at "
            "their provider since the export (left alone)"
        )
        # A restored database holds copies made before the erasure rules it runs under now: rebuilt too.
        rebuilt = rebuild_erased_copies()
        for name, count in sorted(rebuilt.items()):
            self.stdout.write(f"rebuilt {name}: {count}")
