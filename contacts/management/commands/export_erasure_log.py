import json
from pathlib import Path

from django.core.management.base import BaseCommand

from contacts.erasure_export import erasure_log_export


class Command(BaseCommand):
    help = (
        "Export the erasure log for off-site storage (pseudonymous ids and keyed fingerprints only), so that "
        "`reapply_erasures --from FILE` can re-erase everyone after a database restore. Schedule it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", default="", help="write to this file instead of stdout")

    def handle(self, *args, output, **options):
        text = json.dumps(erasure_log_export(), ensure_ascii=True, indent=1)
        if output:
            Path(output).write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"Wrote {len(json.loads(text)['records'])} erasure record(s) to {output}")
        else:
            self.stdout.write(text)
