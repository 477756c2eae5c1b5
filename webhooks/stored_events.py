"""``webhooks``'s side of the bridge (``webhooks.bridge.StoredEvents``): answered from the event log."""

from collections.abc import Iterable

from webhooks.events import StoredPayload, TimelineEntry
from webhooks.models import ErasedSubject
from webhooks.outbound.bridge_side import OutboundMessages
from webhooks.rebuild import rebuild_erased_copies, rebuild_subject_copies
from webhooks.selectors import events_for_contact, payloads_for_contact


class EventLog(OutboundMessages):
    """The stored deliveries of ``WebhookEvent``, for one contact at a time."""

    def rebuild_subject_copies(self, *, provider: str, account_id: str, external_id: str) -> int:
        rebuilt = rebuild_subject_copies(provider=provider, account_id=account_id, external_id=external_id)
        return rebuilt["webhooks_webhookevent.rows"]

    def rebuild_erased_copies(self, *, subjects: Iterable[tuple[str, str, str]]) -> dict[str, int]:
        return dict(rebuild_erased_copies(subjects))

    def reactivate_subject(self, *, provider: str, account_id: str, external_id: str) -> None:
        ErasedSubject.objects.filter(provider=provider, account_id=account_id, external_id=external_id).delete()

    def timeline(
        self, *, provider: str, account_id: str, external_id: str, with_values: bool = False
    ) -> list[TimelineEntry]:
        return events_for_contact(
            provider=provider, account_id=account_id, external_id=external_id, with_values=with_values
        )

    def subject_payloads(
        self, *, provider: str, account_id: str, external_id: str, with_payloads: bool = True
    ) -> list[StoredPayload]:
        return payloads_for_contact(
            provider=provider, account_id=account_id, external_id=external_id, with_payloads=with_payloads
        )
