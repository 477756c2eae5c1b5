"""A contact fetcher for tests, configured as ``"tests.contacts.fake_fetcher.fetch_contact"``.

It answers from ``states`` (keyed by provider, account and contact id) and raises while ``failures``
is above zero, the way an unreachable API would.
"""

from webhooks.events import ContactSnapshot


class FakeFetcher:
    def __init__(self):
        self.reset()

    def reset(self):
        self.states: dict[tuple[str, str, str], ContactSnapshot | None] = {}
        self.failures = 0
        self.error_message = "FPT API unreachable"
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, *, provider: str, account_id: str, external_id: str) -> ContactSnapshot | None:
        self.calls.append((provider, account_id, external_id))
        if self.failures:
            self.failures -= 1
            raise ConnectionError(self.error_message)
        return self.states.get((provider, account_id, external_id))


fetch_contact = FakeFetcher()
