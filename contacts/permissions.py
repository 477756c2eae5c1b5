"""The Compliance group: exactly what an auditor of erasures needs, nothing more.

- see contacts (to find the one a request is about), but not change them;
- see and export the erasure log, and the history of its verifications;
- erase a contact (answer a data-subject request);
- see the retention purges (proof that old payloads are dropped);
- read the access trail: who saw or exported whose data (read-only for everyone);
- keep the data-subject request register and export what we hold about a person (access, portability);
- keep the list of downstream systems told of erasures, and confirm (or mark impossible) the manual notices.

Not included, on purpose: deleting a request (the register's retention prunes it); raw webhook payloads
(``webhooks.view_webhookevent``) hold personal data of people who asked for nothing: an auditor reads the
erasure record's count of redacted payloads instead, and a person's own payloads reach Compliance only
through that person's export (``export_data_subject``), which the access trail records.
"""

COMPLIANCE_GROUP = "Compliance"
COMPLIANCE_PERMISSIONS = (
    ("contacts", "view_contact"),
    ("contacts", "erase_contact"),
    ("contacts", "view_erasurerecord"),
    ("contacts", "export_erasurerecord"),
    ("contacts", "view_erasurelogverification"),
    ("webhooks", "view_payloadpurge"),
    ("contacts", "view_contactaccess"),
    ("contacts", "view_datasubjectrequest"),
    ("contacts", "add_datasubjectrequest"),
    ("contacts", "change_datasubjectrequest"),
    ("contacts", "export_data_subject"),
    ("contacts", "view_datasubjectexport"),
    ("contacts", "view_downstreamsystem"),
    ("contacts", "add_downstreamsystem"),
    ("contacts", "change_downstreamsystem"),
    ("contacts", "delete_downstreamsystem"),
    ("contacts", "view_erasurepropagation"),
    ("contacts", "settle_erasurepropagation"),
)
