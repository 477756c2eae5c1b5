"""The outbound sender's side of the bridge (``webhooks.bridge.StoredEvents``): what ``contacts`` may ask."""

from datetime import datetime

from webhooks.outbound import queue


class OutboundMessages:
    def configure_outbound_endpoint(self, *, key: str, label: str, url: str, secrets: list[str], active: bool) -> None:
        queue.configure_endpoint(key=key, label=label, url=url, secrets=secrets, active=active)

    def queue_messages(self, *, endpoint_keys: list[str], event_type: str, data: dict, at: datetime) -> str:
        return queue.queue_messages(endpoint_keys=endpoint_keys, event_type=event_type, data=data, at=at)

    def message_statuses(self, *, message_ids) -> dict[tuple[str, str], tuple[str, datetime | None]]:
        return queue.message_statuses(message_ids)

    def cancel_outbound_message(self, *, message_id: str, endpoint_key: str) -> bool:
        return queue.cancel_message(message_id=message_id, endpoint_key=endpoint_key)

    def undelivered_message_ids(self, *, created_before: datetime) -> set[str]:
        return queue.undelivered_message_ids(created_before=created_before)
