"""Test settings: the same as production behaviour, with fast hashing and known webhook secrets."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WEBHOOK_PROCESSING = "inline"
# Known secrets, and no allow- or ignore-list from the developer's environment: the entries of base.py, with
# their values (not their structure) replaced.
_TEST_SECRETS = {"timely": "timely-test-secret", "fpt": "fpt-test-secret-0123456789abcdef0123"}
WEBHOOK_PROVIDERS = {
    name: {
        **{key: [] if isinstance(value, list) else value for key, value in entry.items()},
        "SECRETS": [_TEST_SECRETS.get(name, f"{name}-test-secret-0123456789abcdef")],
    }
    for name, entry in WEBHOOK_PROVIDERS.items()  # noqa: F405
}
WEBHOOK_TOLERANCE_SECONDS = 300
WEBHOOK_MAX_BODY_BYTES = 1_048_576
ERASURE_FINGERPRINT_KEY = ""
CONTACT_FETCHERS = {}  # tests that need one configure the fake in tests/contacts/fake_fetcher.py
CONTACT_REFRESH_MAX_ATTEMPTS = 4
CONTACT_REFRESH_BACKOFF_SECONDS = 30
# Throttling is tested on its own (tests/config/test_api_throttling.py) with a rate set per test.
API_THROTTLE_RATE = ""
# Two-factor is off for the suite's admin_client (a password-only login); tests/access/ turns it on per test.
ADMIN_REQUIRE_2FA = False
