"""Contact business logic; callers (signal receivers, admin actions, commands, the API) stay thin and call it.

- ``sync``: a batch of normalized events applied to its contacts (``contacts.receivers``);
- ``last_write_wins``: field versions and the per-field rule both events and look-ups apply;
- ``erasure``: erasing a person's data everywhere (LGPD), for a provider's deletion, a data-subject
  request or a restore;
- ``erasure_log``: the erasure log's hash chain, appended to and verified;
- ``refresh``: looking contacts up at their provider (contact fetchers).

The entry points other modules call are importable from here.
"""

from contacts.services.erasure import (
    AlreadyErased,
    ErasureOrigin,
    erase_contact,
    erase_on_request,
    fingerprint,
    personal_data_quoted,
)
from contacts.services.erasure_log import verify_erasure_log
from contacts.services.refresh import RefreshResult, refresh_contact, refresh_due_contacts, request_refresh
from contacts.services.sync import apply_contact_events

__all__ = [
    "AlreadyErased",
    "ErasureOrigin",
    "RefreshResult",
    "apply_contact_events",
    "erase_contact",
    "erase_on_request",
    "fingerprint",
    "personal_data_quoted",
    "refresh_contact",
    "refresh_due_contacts",
    "request_refresh",
    "verify_erasure_log",
]
