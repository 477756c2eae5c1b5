from django.core.management.base import BaseCommand, CommandError

from contacts.selectors import FingerprintKeyMissing, erasures_by_fingerprint


class Command(BaseCommand):
    help = (
        "Confirm to a person that their data was erased: find erasure records by the keyed fingerprint of "
        "their email or phone (needs ERASURE_FINGERPRINT_KEY). Exit 0 when found, 1 when not."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--email")
        which.add_argument("--phone")

    def handle(self, *args, email, phone, **options):
        try:
            records = list(erasures_by_fingerprint(email=email or "", phone=phone or ""))
        except FingerprintKeyMissing:
            raise CommandError(
                "ERASURE_FINGERPRINT_KEY is not configured: erasure records hold no fingerprints, so they "
                "cannot be looked up by email or phone. Search the erasure log by the provider's contact id."
            ) from None
        if not records:
            self.stdout.write("No erasure record matches.")
            raise SystemExit(1)
        for record in records:
            self.stdout.write(
                f"Erasure record {record.sequence}: {record.provider} account {record.account_id} "
                f"contact {record.external_id}, erased {record.erased_at.isoformat()} "
                f"(requested by {record.requested_by_type})"
            )
