from django.core.management.base import BaseCommand

from contacts.services.rebuild import rebuild_erased_copies


class Command(BaseCommand):
    help = (
        "Rebuild every stored copy of every erased contact (stored events, their headers and ids, tombstones) "
        "by today's rule of what survives an erasure, and report how many values changed per table and "
        "column. Idempotent: run it again and it changes nothing."
    )

    def handle(self, *args, **options):
        counts = rebuild_erased_copies()
        for name, count in sorted(counts.items()):
            self.stdout.write(f"{name}: {count}")
        changed = sum(count for name, count in counts.items() if not name.endswith((".tombstones", ".subjects", ")")))
        self.stdout.write(f"{changed} value(s) rebuilt")
