import json

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from contacts.models import Contact
from webhooks.models import WebhookEvent


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    provider = "timely"
    account_id = "ws_abc123"
    external_id = factory.Sequence(lambda n: f"cont_{n}")
    name = factory.Faker("name", locale="pt_BR")
    phone = factory.Sequence(lambda n: f"+55479912{n:05d}")
    email = factory.Sequence(lambda n: f"pessoa{n}@exemplo.com.br")
    source = "whatsapp"

    class Params:
        # A tombstone: erased, holding no personal data (the database refuses anything else).
        erased = factory.Trait(name="", phone="", email="", source="", erased_at=factory.LazyFunction(timezone.now))


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    provider = "timely"
    dedupe_key = factory.Sequence(lambda n: f"evt_{n:06d}")
    event_id = factory.SelfAttribute("dedupe_key")
    event_type = "contact.created"
    account_id = "ws_abc123"
    external_id = factory.Sequence(lambda n: f"cont_{n}")
    body = factory.LazyAttribute(
        lambda e: json.dumps(
            {
                "event": e.event_type,
                "event_id": e.dedupe_key,
                "timestamp": "2026-04-19T14:30:00Z",
                "workspace_id": e.account_id,
                "data": {"contact_id": e.external_id},
            }
        ).encode()
    )
    signature_form = "timely-timestamped"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw")
