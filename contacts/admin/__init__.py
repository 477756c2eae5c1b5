"""The contacts app's admin, one module per page family; importing the package registers them all."""

from contacts.admin import access, contact, downstream, erasure_records, requests  # noqa: F401  (registers their ModelAdmins)
from contacts.admin.contact import ContactAdmin

__all__ = ["ContactAdmin"]
