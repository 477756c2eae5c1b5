"""Fixtures of the webhooks tests."""

from tests.webhooks.provider_contract import configured  # noqa: F401  (the provider contract's fixture)
