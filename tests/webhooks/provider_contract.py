"""What the provider contract tests know of a provider: only its module, its samples and its settings entry.

Nothing here names a provider's fields: a delivery about another contact is the provider's own deletion
sample with the sample's ids replaced where they were; the latest delivery is a sample made fresh by the
provider (``fresh_sample``) at a far-future time; the person's values are what the provider's declaration of
what survives an erasure leaves out of its samples. So the contract runs on every configured provider and on
the throwaway third one (tests/webhooks/third_provider/).
"""

import json
from datetime import UTC, datetime

import pytest
from django.conf import settings as django_settings

from webhooks.providers import get_provider
from webhooks.providers.fields import EnvelopeError, parse_timestamp
from webhooks.providers.schema import rebuild
from webhooks.samples import load_sample, sample_names

THIRD_PROVIDER = {"acme": {"MODULE": "tests.webhooks.third_provider.acme", "SECRETS": ["acme-test-secret-0123456789"]}}
# Every provider the test settings configure, and the third: the contract holds for each.
CONTRACT_PROVIDERS = [*sorted(django_settings.WEBHOOK_PROVIDERS), *THIRD_PROVIDER]
# Later than any time a test sends (read as the receipt time: WEBHOOK_TOLERANCE_SECONDS).
FAR_FUTURE = datetime(8999, 12, 31, tzinfo=UTC)
# Values no sample holds that a payload may carry anywhere (a provider adds fields): personal data to erase.
EXTRAS = {"memberName": "Maria Eduarda Quintanilha", "contactEmail": "maria.quintanilha@exemplo.com.br"}


@pytest.fixture
def configured(settings, provider):
    """``provider`` configured as its one settings entry (the real ones already are)."""
    if provider in THIRD_PROVIDER:
        settings.WEBHOOK_PROVIDERS = {**settings.WEBHOOK_PROVIDERS, provider: THIRD_PROVIDER[provider]}
    return get_provider(provider)


def deletion_name(provider: str) -> str:
    return get_provider(provider).deletion_event_type


def creation_name(provider: str) -> str:
    """The first sample of the provider's contact family that is not its deletion."""
    family = get_provider(provider).family_prefix
    return next(name for name in sample_names(provider) if name.startswith(family) and name != deletion_name(provider))


def with_extras(payload: dict) -> dict:
    """The payload carrying ``EXTRAS`` at its top level and in each object there (``data``, ``person``)."""
    return {**{key: {**value, **EXTRAS} if isinstance(value, dict) else value for key, value in payload.items()},
            **EXTRAS}  # fmt: skip


def leaves(value) -> list:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def personal_values(provider: str) -> list[str]:
    """The strings of the samples that their rebuilt copies leave out (what an erasure removes), long enough
    to mean something and no part of a value that survives; and the extras."""
    values, surviving = set(), set()
    instance = get_provider(provider)
    for name in sample_names(provider):
        payload = load_sample(provider, name)
        rebuilt = rebuild(payload, instance.surviving_schema(name))
        surviving |= {str(leaf) for leaf in leaves(rebuilt) if leaf is not None}
        values |= {leaf for leaf in leaves(payload) if isinstance(leaf, str)}
    kept = values - surviving
    return sorted({v for v in kept if len(v) >= 5 and not any(v in s for s in surviving)} | set(EXTRAS.values()))


def retargeted(payload, old: dict, new: dict):
    """``payload`` with each of ``old``'s values (as the delivery reads them: text) replaced by ``new``'s,
    wherever it was, as a number where it was one."""
    if isinstance(payload, dict):
        return {key: retargeted(value, old, new) for key, value in payload.items()}
    if isinstance(payload, list):
        return [retargeted(value, old, new) for value in payload]
    for key, value in old.items():
        if payload is not None and not isinstance(payload, bool) and str(payload) == value:
            return as_number(new[key]) if isinstance(payload, int) else new[key]
    return payload


def as_number(text: str):
    try:
        return int(text)
    except ValueError:
        return text


def identity(provider: str, payload: dict) -> dict:
    delivery = get_provider(provider).parse(json_bytes(payload))
    return {"account_id": delivery.account_id, "external_id": delivery.external_id}


def latest_about(provider: str, name: str, account_id: str, external_id: str) -> dict:
    """The sample ``name`` made fresh at a far-future time (newer than anything sent), about that contact."""
    sample = load_sample(provider, name)
    fresh = get_provider(provider).fresh_sample(sample, now=FAR_FUTURE)
    return retargeted(fresh, identity(provider, sample), {"account_id": account_id, "external_id": external_id})


def identifying_paths(provider: str) -> set[tuple]:
    """The paths of the deletion sample that name it (its type, event id, account, contact, or a time
    nothing else carries) and what holds them: a hostile value there may get a deletion refused."""
    sample = load_sample(provider, deletion_name(provider))
    delivery = get_provider(provider).parse(json_bytes(sample))
    names = {delivery.event_type, delivery.event_id, delivery.account_id, delivery.external_id} - {""}
    counts: dict[str, int] = {}
    for leaf in leaves(sample):
        counts[str(leaf)] = counts.get(str(leaf), 0) + 1
    sole_times = {text for text, n in counts.items() if n == 1 and is_time(provider, text)}
    found = set()
    for path, value in paths_and_values(sample):
        if any(str(leaf) in names | sole_times for leaf in leaves(value)):
            found.add(path)
    return found


def is_time(provider: str, text: str) -> bool:
    try:
        parse_timestamp(text, field="t")
    except EnvelopeError:
        return False
    return True


def paths_and_values(value, prefix=()) -> list[tuple[tuple, object]]:
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    found = []
    for key, child in children:
        found.append(((*prefix, key), child))
        found.extend(paths_and_values(child, (*prefix, key)))
    return found


def json_bytes(payload) -> bytes:
    return json.dumps(payload).encode()
