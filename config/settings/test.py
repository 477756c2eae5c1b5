"""Test settings: the same as production behaviour, with fast hashing and known webhook secrets."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WEBHOOK_PROCESSING = "inline"
WEBHOOK_PROVIDERS = {
    "timely": {"SECRETS": ["timely-test-secret"], "ACCOUNT_IDS": [], "IGNORE_ACTORS": []},
    "fpt": {"SECRETS": ["fpt-test-secret-0123456789abcdef0123"], "ACCOUNT_IDS": []},
}
WEBHOOK_TOLERANCE_SECONDS = 300
WEBHOOK_MAX_BODY_BYTES = 1_048_576
ERASURE_FINGERPRINT_KEY = ""
CONTACT_FETCHERS = {}  # tests that need one configure the fake in tests/contacts/fake_fetcher.py
CONTACT_REFRESH_MAX_ATTEMPTS = 4
CONTACT_REFRESH_BACKOFF_SECONDS = 30
# Throttling is tested on its own (tests/test_api_throttling.py) with a rate set per test.
API_THROTTLE_RATE = ""
# Two-factor is off for the suite's admin_client (a password-only login); tests/access/ turns it on per test.
ADMIN_REQUIRE_2FA = False
