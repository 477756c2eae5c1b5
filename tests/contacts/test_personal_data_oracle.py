"""The personal-data oracle (SPEC › LGPD erasure, "Test of truth"; docs/erasure-rules.md › How this is tested).

Hypothesis invents a person (an accented name of short words, an email address with a ``+`` tag, a phone
typed one of the usual ways, a CPF, a street address) and puts their values everywhere a provider could:
the natural fields, in place of any field of any event shape of the provider (ids, times and enums
included), as JSON keys at every depth, in the request headers, with bodies in UTF-8, UTF-16 or UTF-32.
Every contact those events name is then erased, each by one of the four ways staff or providers erase
(the provider's deletion webhook, ``erase_contact``, the admin action, the request desk), and a late event
about the person arrives. A full dump of the database, binary columns decoded, must then hold none of
the person's values in any usual spelling (``tests.database_dump.oracle_forms``), while a bystander's
values are all still there.

One exception is by design (SPEC: ids in plain form are kept): a value in plain form (a CPF written
``123.456.789-09``) put where an id is declared is an id, and stays. The oracle does not look for those.

``ORACLE_EXAMPLES`` (default 8 per provider, derandomized in CI) sets the count; docs/erasure-rules.md has
the figures of a run at 300 per provider.
"""

import copy
import os
import uuid
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.values.erased_ids import is_plain_id
from contacts.models import Contact, DataSubjectRequest
from tests.conftest import SIGNERS, load_fixture
from tests.database_dump import decoded_dump, oracle_hits
from webhooks.models import WebhookEvent
from webhooks.providers import get_provider
from webhooks.providers.schema import Actor, Id
from webhooks.samples import sample_names

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("ORACLE_EXAMPLES", "8"))
WORDS = ["Zé", "Lú", "Íris", "Ênio", "Xu", "Yé", "Bô", "Jó", "Ümit", "Kuã", "Dô", "Açaí", "Nuno", "Mãe", "Tió"]
LOCALS = ["ze.lu", "iris_xu", "enio-bo", "jo.kua", "umit", "do.acai"]
PHONE_FORMATS = [
    "+55 {ddd} {a}-{b}",
    "({ddd}) {a}-{b}",
    "0055 {ddd} {n}",
    "+55{ddd}{n}",
    "{ddd} {a} {b}",
    "+55 ({ddd}) {n}",
]
BYSTANDER = {"name": "Bruno Tavares Lima", "email": "bruno.tavares@exemplo.com.br", "phone": "+5521987654321"}
ERASURE_WAYS = ("webhook", "command", "admin", "desk")
# The contact every fixture names, which the late event names too.
FIXTURE_SUBJECT = {"timely": ("timely", "ws_abc123", "cont_456"), "fpt": ("fpt", "48213", "9917342")}


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    phone: str
    cpf: str
    address: str

    def values(self) -> list[str]:
        return [self.name, self.email, self.phone, self.cpf, self.address]


def digits(draw, count: int) -> str:
    return draw(st.text("0123456789", min_size=count, max_size=count))


@st.composite
def people(draw) -> Person:
    words = st.sampled_from(WORDS)
    ddd, number = draw(st.sampled_from(["11", "21", "47", "85"])), "9" + digits(draw, 8)
    phone = draw(st.sampled_from(PHONE_FORMATS)).format(ddd=ddd, a=number[:5], b=number[5:], n=number)
    cpf = f"{digits(draw, 3)}.{digits(draw, 3)}.{digits(draw, 3)}-{digits(draw, 2)}"
    return Person(
        name=" ".join(draw(st.lists(words, min_size=2, max_size=3, unique=True))),
        email=f"{draw(st.sampled_from(LOCALS))}{digits(draw, 3)}+{draw(st.sampled_from(['crm', 'vip']))}@exemplo.org",
        phone=phone,
        cpf=cpf,
        address=f"Rua {draw(words)} {draw(words)}, {draw(st.integers(1, 9999))} apto {draw(st.integers(1, 99))}",
    )


def leaf_paths(value, prefix=()) -> list[tuple]:
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    paths = []
    for key, child in children:
        paths += leaf_paths(child, (*prefix, key)) if isinstance(child, dict | list) and child else [(*prefix, key)]
    return paths


def objects_in(value) -> list[dict]:
    found = [value] if isinstance(value, dict) else []
    for child in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
        found += objects_in(child)
    return found


def declared_rule(provider: str, event_type: str, path: tuple):
    rule = get_provider(provider).surviving_schema(event_type)
    for key in path:
        rule = rule.get(key) if isinstance(rule, dict) else None
    return rule


class Oracle:
    """Deliveries through the real endpoint, signed, and the erasures; remembers what must vanish."""

    def __init__(self, provider, client, admin_client, capture):
        self.provider, self.client, self.admin_client, self.capture = provider, client, admin_client, capture
        self.kept_by_design: set[str] = set()

    def post(self, payload, *, headers=None, codec="utf-8", ascii_only=False):
        import json

        body = json.dumps(payload, ensure_ascii=ascii_only).encode(codec)
        signed = {**SIGNERS[self.provider](body), **(headers or {})}
        with self.capture(execute=True):
            response = self.client.generic(
                "POST", f"/webhooks/{self.provider}/", body, content_type="application/json", headers=signed
            )
        assert response.status_code in (200, 400), (response.status_code, response.content[:200])
        return response

    def fresh(self, event_type: str) -> dict:
        payload = load_fixture(self.provider, event_type)
        id_key = "event_id" if self.provider == "timely" else "eventId"
        return {**payload, id_key: uuid.uuid4().hex}

    def person_delivery(self, data, person: Person, event_type: str) -> None:
        """One event of this shape holding the person's values: one field replaced, a key with a value at
        every depth, the headers; in a drawn encoding."""
        payload = self.fresh(event_type)
        if self.provider == "timely" and event_type.startswith("contact.") and event_type != "contact.deleted":
            payload["data"].update(name=person.name, email=person.email, phone=person.phone,
                                   custom_fields={"cpf": person.cpf, "endereco": person.address})  # fmt: skip
        path = data.draw(st.sampled_from(leaf_paths(payload)), label="field")
        value = data.draw(st.sampled_from(person.values()), label="value")
        target = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        if isinstance(declared_rule(self.provider, event_type, path), Id | Actor) and is_plain_id(value):
            self.kept_by_design.add(value)  # an id in plain form is an id (SPEC)
        for level in objects_in(payload):
            level[data.draw(st.sampled_from(person.values()), label="key")] = person.name
        request_id = data.draw(st.sampled_from(person.values()), label="request id")
        if is_plain_id(request_id):
            self.kept_by_design.add(request_id)
        self.post(
            payload,
            headers={"User-Agent": f"{person.name} <{person.email}>", "X-Request-Id": request_id},
            codec=data.draw(st.sampled_from(["utf-8", "utf-16", "utf-32"]), label="codec"),
            ascii_only=data.draw(st.booleans(), label="ascii"),
        )

    def note_ids_kept(self, person: Person) -> None:
        """A value of the person's in plain form that became an id (an event's contact, account, id or type,
        read wherever the provider names them) is an id, kept by design (SPEC)."""
        columns = ("account_id", "external_id", "event_id", "dedupe_key", "event_type")
        ids = {value for row in WebhookEvent.objects.values_list(*columns) for value in row}
        self.kept_by_design |= {value for value in person.values() if value in ids and is_plain_id(value)}

    def erase_everyone_but(self, data, bystander: tuple) -> None:
        named = set(WebhookEvent.objects.exclude(external_id="").values_list("provider", "account_id", "external_id"))
        named |= set(Contact.objects.values_list("provider", "account_id", "external_id"))
        named.add(FIXTURE_SUBJECT[self.provider])  # the late event is about them, known here or not
        for subject in sorted(named - {bystander}):
            self.erase(subject, data.draw(st.sampled_from(ERASURE_WAYS), label="erased by"))

    def erase(self, subject: tuple, way: str) -> None:
        provider, account_id, external_id = subject
        contact = Contact.objects.filter(provider=provider, account_id=account_id, external_id=external_id).first()
        if contact is not None and contact.is_erased:
            return
        if way == "webhook" and (provider == "timely" or (account_id.isdigit() and external_id.isdigit())):
            deletion = self.fresh("contact.deleted")
            if provider == "timely":
                deletion.update(workspace_id=account_id, timestamp="8999-12-31T00:00:00Z")
                deletion["data"].update(contact_id=external_id, deleted_at="8999-12-31T00:00:00Z")
            else:
                deletion.update(locationId=int(account_id), eventTimestamp="8999-12-31T00:00:00.000Z")
                deletion["data"]["contactId"] = int(external_id)
            assert self.post(deletion).status_code == 200
        elif way == "admin" and contact is not None:
            data = {"action": "erase_data_subject", "_selected_action": [contact.pk], "post": "yes",
                    "reason": "data_subject_request", "reference": "DSR-42"}  # fmt: skip
            assert self.admin_client.post("/admin/contacts/contact/", data).status_code == 302
        elif way == "desk" and contact is not None:
            request = DataSubjectRequest.objects.create(kind=DataSubjectRequest.Kind.ERASURE)
            request.contacts.set([contact])
            assert self.admin_client.post(
                f"/admin/contacts/datasubjectrequest/{request.pk}/erase/", {"reason": "data_subject_request"}
            ).status_code == 302
        else:
            call_command("erase_contact", "--provider", provider, "--account", account_id, "--external-id",
                         external_id, "--reason", "data_subject_request", "--reference", "DSR-7",
                         "--tombstone-unknown")  # fmt: skip
        erased = Contact.objects.get(provider=provider, account_id=account_id, external_id=external_id)
        assert erased.is_erased, (way, subject)


class RolledBack(Exception):
    pass


@pytest.mark.parametrize("provider", ["timely", "fpt"])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(person=people(), data=st.data())
def test_after_every_erasure_no_value_of_the_person_survives_anywhere(
    provider, person, data, client, admin_client, django_capture_on_commit_callbacks
):
    oracle = Oracle(provider, client, admin_client, django_capture_on_commit_callbacks)
    try:
        with transaction.atomic():
            bystander_event = load_fixture("timely", "contact.created")
            bystander_event["event_id"] = "evt_bystander"
            bystander_event["data"].update(contact_id="cont_bystander", **BYSTANDER)
            Oracle("timely", client, admin_client, django_capture_on_commit_callbacks).post(bystander_event)

            shapes = data.draw(st.permutations(sample_names(provider)), label="order")
            for event_type in shapes:
                oracle.person_delivery(data, person, event_type)
            oracle.note_ids_kept(person)
            oracle.erase_everyone_but(data, ("timely", "ws_abc123", "cont_bystander"))
            late = oracle.fresh(data.draw(st.sampled_from(sample_names(provider)), label="late"))
            late[data.draw(st.sampled_from(person.values()), label="late key")] = person.name
            oracle.post(late, headers={"User-Agent": person.name})

            dump = decoded_dump()
            must_vanish = [value for value in person.values() if value not in oracle.kept_by_design]
            assert oracle_hits(dump, must_vanish) == []
            assert oracle_hits(dump, BYSTANDER.values()) == sorted(BYSTANDER.values())
            raise RolledBack
    except RolledBack:
        pass


def test_the_oracle_finds_a_person_before_the_erasure(client, admin_client, django_capture_on_commit_callbacks):
    """The search itself: each of the person's values is found while it is held, in a UTF-16 body too."""
    person = Person(name="Íris Xu", email="iris_xu7+crm@exemplo.com.br", phone="0055 47 991234567",
                    cpf="123.456.789-09", address="Rua Lú Jó, 12 apto 3")  # fmt: skip
    oracle = Oracle("timely", client, admin_client, django_capture_on_commit_callbacks)
    payload = copy.deepcopy(load_fixture("timely", "contact.created"))
    payload["data"].update(name=person.name, custom_fields={person.email: person.cpf, "x": person.address},
                           phone=person.phone)  # fmt: skip
    oracle.post(payload, codec="utf-16", ascii_only=True)
    assert oracle_hits(decoded_dump(), person.values()) == sorted(person.values())
