"""The contacts app's models, one module per concern (the contact, the erasure log, the access trail, the
request desk); import them from here (``from contacts.models import Contact``)."""

from contacts.models.access import ContactAccess
from contacts.models.contact import LOCAL_FIELDS, PERSONAL_FIELDS, SYNCED_FIELDS, Contact, TombstoneIsReadOnly
from contacts.models.downstream import (
    DownstreamKind,
    DownstreamSystem,
    ErasurePropagation,
    ImpossibleReason,
    PropagationKind,
    PropagationStatus,
)
from contacts.models.erasure import ErasureLogVerification, ErasureRecord
from contacts.models.requests import DataSubjectExport, DataSubjectRequest

__all__ = [
    "LOCAL_FIELDS",
    "PERSONAL_FIELDS",
    "SYNCED_FIELDS",
    "Contact",
    "ContactAccess",
    "DataSubjectExport",
    "DataSubjectRequest",
    "DownstreamKind",
    "DownstreamSystem",
    "ErasurePropagation",
    "ErasureLogVerification",
    "ErasureRecord",
    "ImpossibleReason",
    "PropagationKind",
    "PropagationStatus",
    "TombstoneIsReadOnly",
]
