from django.core.management.base import BaseCommand, CommandError

from contacts import requests as desk
from contacts.models import Contact, DataSubjectExport, DataSubjectRequest


class Command(BaseCommand):
    help = (
        "Write what we hold about one contact (its fields, local notes and every stored event payload) as "
        "JSON to stdout: the desk's access/portability export. Recorded in the access trail, and on the "
        "request with --request."
    )

    def add_arguments(self, parser):
        parser.add_argument("--contact", type=int, required=True, help="our contact id (the API's id)")
        parser.add_argument("--format", choices=["json"], default="json", dest="export_format")
        parser.add_argument("--request", type=int, default=None, help="the data-subject request it answers")

    def handle(self, *args, contact, export_format, request, **options):
        subject = Contact.objects.filter(pk=contact).first()
        if subject is None:
            raise CommandError(f"no contact #{contact}")
        data_subject_request = None
        if request is not None:
            data_subject_request = DataSubjectRequest.objects.filter(pk=request).first()
            if data_subject_request is None:
                raise CommandError(f"no data-subject request #{request}")
            if data_subject_request.anonymized_at is not None:
                raise CommandError(f"request #{request} was cleared by retention: it concerns nobody any more")
            try:
                desk.concerned_contact(data_subject_request, subject.pk)
            except desk.ContactNotInRequest as exc:
                raise CommandError(str(exc)) from None
        document = desk.subject_export(subject, request=data_subject_request)
        desk.record_export(
            request=data_subject_request, contact=subject, user=None, export_format=DataSubjectExport.Format.JSON
        )
        self.stdout.write(desk.subject_export_json(document))
