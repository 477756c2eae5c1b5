import pytest

from tests.config.test_metrics import scrape  # noqa: F401  (fixtures shared with those suites)
from tests.contacts.test_erasure_reaches_every_copy import deliver  # noqa: F401
from tests.outbound.receiver import Receiver
from tests.webhooks.test_webhook_worker_processes import workers  # noqa: F401


@pytest.fixture
def receivers(settings):
    """Start real receivers on 127.0.0.1 (``receivers(statuses=[...], delay=...)``); loopback is allowed."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    started = []

    def start(**options) -> Receiver:
        receiver = Receiver(**options)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()
