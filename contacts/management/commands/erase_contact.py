import getpass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.values.erased_ids import stored_id
from contacts.erasure_reasons import ErasureReason, InvalidErasureReason, check_reason_and_reference
from contacts.models import Contact
from contacts.services.erasure import AlreadyErased, erase_on_request


class Command(BaseCommand):
    help = (
        "Erase one contact's personal data for a data-subject request that arrived outside the admin "
        "(recorded in the erasure log with requested_by_type 'cli')."
    )

    def add_arguments(self, parser):
        parser.add_argument("--provider", required=True)
        parser.add_argument("--account", required=True, help="the provider account (Timely workspace, FPT location)")
        parser.add_argument("--external-id", required=True, help="the provider's contact id")
        parser.add_argument(
            "--reason",
            default=ErasureReason.DATA_SUBJECT_REQUEST,
            # Checked in handle(), not by argparse's choices, whose error would repeat what was typed.
            help=f"why, as one of the erasure log's codes: {', '.join(ErasureReason.values)} "
            "(default: data_subject_request)",
        )
        parser.add_argument(
            "--reference",
            default="",
            help="the request's ticket id, e.g. DSR-88 or LGPD/2026/0042 (letters, then up to three groups of "
            "digits): the erasure log keeps it forever, so nothing else is accepted",
        )
        parser.add_argument(
            "--requested-by", default="", help="who asked (a ticket or staff id; default: the OS user running this)"
        )
        parser.add_argument(
            "--tombstone-unknown",
            action="store_true",
            help="if we hold no such contact, still record the request and keep a tombstone so later events "
            "about it are stored redacted",
        )

    def handle(
        self, *args, provider, account, external_id, reason, reference, requested_by, tombstone_unknown, **options
    ):
        key = {"provider": provider.strip(), "account_id": account.strip(), "external_id": external_id.strip()}
        if not all(key.values()):
            raise CommandError("--provider, --account and --external-id must not be empty")
        # As stored: an id not in plain form only as its keyed digest (config.values.erased_ids).
        key.update(account_id=stored_id(key["account_id"]), external_id=stored_id(key["external_id"]))
        try:
            check_reason_and_reference(reason=reason, reference=reference.strip())
        except InvalidErasureReason as exc:
            raise CommandError(f"{exc}; nothing was erased") from None
        if key["provider"] not in settings.WEBHOOK_PROVIDERS:
            known = ", ".join(sorted(settings.WEBHOOK_PROVIDERS))
            raise CommandError(f"unknown provider {key['provider']!r} (known: {known})")
        contact = Contact.objects.filter(**key).first()
        if contact is None:
            if not tombstone_unknown:
                raise CommandError(
                    f"no contact {key['provider']}/{key['account_id']}/{key['external_id']}: nothing was erased. "
                    "Check the ids (provider, account and contact id as the provider shows them); if they are "
                    "right, rerun with --tombstone-unknown to record the request and block later data about it."
                )
            contact, _ = Contact.objects.get_or_create(**key)
        try:
            record = erase_on_request(
                contact=contact,
                requested_by=requested_by.strip() or _os_user(),
                requested_by_type="cli",
                reason=reason,
                reference=reference.strip(),
            )
        except AlreadyErased:
            raise CommandError(
                f"contact #{contact.pk} was already erased (see the erasure log); nothing to do"
            ) from None
        self.stdout.write(
            f"Erased contact #{contact.pk}: {len(record.erased_fields)} field(s), "
            f"{record.redacted_events} payload(s) redacted; erasure record {record.sequence}"
        )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"
