"""A demo with people in it (webhooks/demo.py): made-up Brazilian contacts, each provider's own deliveries
about them, signed and sent through the real endpoint, with updates, tags, owners and a few erasures; the
same seed makes the same people; ``setup_demo`` loads them once, on a new database."""

import io
from datetime import UTC, datetime

import phonenumbers
import pytest
from django.core.management import call_command

from contacts.models import Contact, ErasureRecord
from webhooks.demo import load_demo
from webhooks.demo_people import ChangeKind, demo_history
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.providers import get_provider, provider_names

ENDS = datetime(2026, 12, 1, tzinfo=UTC)


def weights() -> dict[str, int]:
    return {name: get_provider(name).demo_weight for name in provider_names()}


@pytest.fixture
def loaded(db):
    answers = load_demo(200, seed=5, ends=ENDS)
    return answers, demo_history(200, seed=5, providers=weights(), ends=ENDS)


def test_the_demo_makes_the_expected_people_at_both_providers_through_the_endpoint(loaded):
    answers, history = loaded
    assert set(answers) == {200} and sum(answers.values()) == WebhookEvent.objects.count()
    assert not WebhookEvent.objects.exclude(status=WebhookEventStatus.PROCESSED).exists()
    people = {(change.person.provider, change.person.number) for change in history}
    assert Contact.objects.count() == len(people) == 200
    for provider in provider_names():
        assert Contact.objects.filter(provider=provider).count() == sum(1 for p, _ in people if p == provider) > 10
    erased = {(c.person.provider, c.person.number) for c in history if c.kind == ChangeKind.DELETED}
    assert Contact.objects.filter(erased_at__isnull=False).count() == ErasureRecord.objects.count() == len(erased)
    assert {provider for provider, _ in erased} == set(provider_names())


def test_the_people_read_as_brazilians_with_updates_tags_and_owners(loaded):
    timely = Contact.objects.filter(provider="timely", erased_at__isnull=True)
    names = list(timely.values_list("name", flat=True))
    assert all(len(name.split()) >= 2 for name in names)
    assert any(not name.isascii() for name in names)  # accents: Conceição, Gonçalves
    for phone in timely.exclude(phone="").values_list("phone", flat=True):
        assert phonenumbers.region_code_for_number(phonenumbers.parse(phone)) == "BR"
    assert timely.exclude(tags=[]).count() > 20
    assert timely.exclude(assigned_to="").values("assigned_to").distinct().count() > 3
    assert timely.exclude(email="").filter(email__contains="@").count() > 100
    assert WebhookEvent.objects.filter(event_type="contact.updated").count() > 20
    assert WebhookEvent.objects.filter(provider="fpt", event_type="contact.status_changed").count() > 50


def test_no_fpt_contact_is_left_without_a_status(loaded):
    living = Contact.objects.filter(provider="fpt", erased_at__isnull=True)
    assert living.exists()
    assert not living.filter(status="").exists() and not living.filter(status_id__isnull=True).exists()
    assert living.values("status").distinct().count() >= 3


def test_the_same_seed_makes_the_same_people_and_events_and_another_seed_others():
    one = demo_history(50, seed=9, providers=weights(), ends=ENDS)
    assert one == demo_history(50, seed=9, providers=weights(), ends=ENDS)
    assert one != demo_history(50, seed=10, providers=weights(), ends=ENDS)
    payloads = [[get_provider(c.person.provider).demo_payloads(c) for c in one] for _ in range(2)]
    assert payloads[0] == payloads[1]


def test_loading_the_same_seed_again_makes_no_new_people(loaded):
    before = (Contact.objects.count(), WebhookEvent.objects.count())
    answers = load_demo(200, seed=5, ends=ENDS)
    assert set(answers) == {200}
    assert (Contact.objects.count(), WebhookEvent.objects.count()) == before


@pytest.mark.django_db
def test_setup_demo_loads_the_people_on_a_new_database_only(settings):
    settings.DEBUG = True
    first, second = io.StringIO(), io.StringIO()
    call_command("setup_demo", "--people", "30", stdout=first)
    count = Contact.objects.count()
    call_command("setup_demo", "--people", "30", stdout=second)

    assert "30 made-up people loaded" in first.getvalue()
    assert "made-up people" not in second.getvalue()
    assert Contact.objects.count() == count >= 30


@pytest.mark.django_db
def test_the_command_says_what_it_sent():
    output = io.StringIO()
    call_command("demo_contacts", "--count", "12", "--seed", "3", stdout=output)
    assert output.getvalue().startswith("12 demo people sent: ")
    assert Contact.objects.count() == 12
