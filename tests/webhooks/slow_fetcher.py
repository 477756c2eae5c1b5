"""A contact fetcher for worker processes in tests (``FPT_CONTACT_FETCHER``): each look-up takes
``SLOW_FETCHER_SECONDS`` (as a provider's API can) and finds nothing upstream."""

import os
import time


def fetch_contact(*, provider: str, account_id: str, external_id: str) -> None:
    time.sleep(float(os.environ.get("SLOW_FETCHER_SECONDS", "0.5")))
