"""Every URL the project serves, walked as staff: any answer that shows a contact's name, email or phone (a
page, a list, an action's page, an API read, an export, a raw payload) leaves a trail row naming that contact.

The URLs come from the URL resolver, so a page added later is walked without a line here; each is asked with
GET, with an empty POST, and with an invalid POST: every field of the GET answer's forms sent with a NUL,
every listed row selected and, on a list, each of its actions in turn. Each request runs in a savepoint rolled
back afterwards, so an erasure asked for by one request leaves the people in place for the next.
"""

import html
import json
import re
from itertools import product

import phonenumbers
import pytest
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from contacts.models import Contact, ContactAccess, DataSubjectExport, DataSubjectRequest, ErasurePropagation
from contacts.services import erase_on_request
from tests.factories import ContactFactory, UserFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db

PEOPLE = [
    {"name": "Ana Conceição Ribeiro", "phone": "+5547988776655", "email": "ana.conceicao@exemplo.com.br",
     "provider": "timely", "account_id": "ws_abc123", "external_id": "cont_ana", "notes": "prefere WhatsApp"},
    {"name": "Bruno Araújo Lima", "phone": "+5511988887777", "email": "bruno.lima@exemplo.com.br",
     "provider": "fpt", "account_id": "48213", "external_id": "9917342"},
]  # fmt: skip


@pytest.fixture
def people():
    """Two people with data, one erased person, a payload naming each, a request desk entry linking both."""
    contacts = [ContactFactory(**person) for person in PEOPLE]
    for contact in contacts:
        body = {"event": "contact.updated", "workspace_id": contact.account_id,
                "data": {"contact_id": contact.external_id, "name": contact.name, "email": contact.email,
                         "phone": contact.phone}}  # fmt: skip
        WebhookEventFactory(provider=contact.provider, account_id=contact.account_id,
                            external_id=contact.external_id, body=json.dumps(body).encode())  # fmt: skip
    erased = ContactFactory(name="Carla Erased", external_id="cont_carla")
    erase_on_request(contact=erased, requested_by="admin", requested_by_type="admin", reference="DSR-1")
    request = DataSubjectRequest.objects.create(kind=DataSubjectRequest.Kind.ERASURE, received_at=timezone.now())
    request.contacts.add(*contacts)
    return contacts


def viewer():
    """Staff with every view permission and nothing else."""
    user = UserFactory(is_staff=True, username="viewer")
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return user


def superuser():
    return UserFactory(is_staff=True, is_superuser=True, username="boss")


@pytest.mark.parametrize("make_user", [viewer, superuser])
def test_every_answer_showing_a_contact_names_it_in_the_trail(client, people, make_user):
    user = make_user()
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)  # its pages take its id
    # Their own history (the admin's home lists it) names a contact.
    LogEntry.objects.log_actions(user_id=user.pk, queryset=[people[0]], action_flag=CHANGE, change_message="")
    walked, missing = 0, []
    for path in served_paths():
        client.force_login(user)
        get = ask(client, "get", path, {})
        attempts = [("post", {}), *(("post", form) for form in invalid_forms(get.text))]
        missing += get.missing
        for method, data in attempts:
            client.force_login(user)  # a POST may have logged the user out
            missing += ask(client, method, path, data).missing
        walked += 1 + len(attempts)

    assert walked > 300  # the whole URL map, not a part of it
    assert missing == [], "\n".join(map(str, missing))


class Answer:
    def __init__(self, text, missing):
        self.text, self.missing = text, missing


def ask(client, method, path, data) -> Answer:
    """One request in a savepoint: which shown contacts its answer's trail rows do not name."""
    with transaction.atomic():
        last = ContactAccess.objects.order_by("-id").values_list("id", flat=True).first() or 0
        response = getattr(client, method)(path, data)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        text = content.decode("utf-8", errors="replace")
        named = set(ContactAccess.objects.filter(id__gt=last).values_list("contact_id", flat=True))
        shown = {contact.pk for contact in Contact.objects.filter(erased_at__isnull=True) if shows(text, contact)}
        transaction.set_rollback(True)
    return Answer(text, [(method.upper(), path, sorted(data), response.status_code, pk) for pk in shown - named])


def shows(text: str, contact: Contact) -> bool:
    values = [contact.name, contact.email, contact.phone]
    if contact.phone:
        number = phonenumbers.parse(contact.phone)
        values += [phonenumbers.format_number(number, style) for style in
                   (phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.NATIONAL)]  # fmt: skip
    forms = set()
    for value in filter(None, values):
        forms |= {value, html.escape(value), json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    return any(form in text for form in forms)


# --- The walk: every URL pattern, its parameters filled with real objects ----------------------------------

GROUP = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<regex_name>\w+)>(?P<body>[^)]*)\)")


def served_paths() -> list[str]:
    paths = []
    for route, callback in url_patterns(get_resolver().url_patterns):
        names = [m["name"] or m["regex_name"] for m in GROUP.finditer(route)]
        choices = [values_for(name, route, callback) for name in names]
        for values in product(*choices):
            paths.append("/" + fill(route, dict(zip(names, values, strict=True))))
    return sorted(set(paths))


def url_patterns(patterns, prefix=""):
    for pattern in patterns:
        text = str(pattern.pattern)
        if isinstance(pattern.pattern, RegexPattern):
            text = text.removeprefix("^").removesuffix("$").replace(r"\.", ".").replace("/?", "/")
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + text)
        elif isinstance(pattern, URLPattern):
            yield prefix + text, pattern.callback


def fill(route: str, values: dict) -> str:
    return GROUP.sub(lambda m: str(values[m["name"] or m["regex_name"]]), route)


def values_for(name: str, route: str, callback) -> list:
    """Real values for a URL parameter: every object of the model the URL is about, and so on."""
    if name in ("object_id", "pk", "id"):
        if "content_type_id" in route:
            return [Contact.objects.filter(erased_at__isnull=True).first().pk]
        return list(model_of(route, callback).objects.order_by("pk").values_list("pk", flat=True)[:5]) or [1]
    alternatives = re.search(rf"\(\?P<{name}>([\w|]+)\)", route)
    if alternatives:  # a closed list in the pattern itself (the admin's app list)
        return alternatives[1].split("|")
    known = {
        "content_type_id": [ContentType.objects.get_for_model(Contact).pk],
        "contact_id": list(Contact.objects.values_list("pk", flat=True)),
        "export_format": DataSubjectExport.Format.values,
        # An erasure's notice to a downstream system (its answer page shows ids and the system's name only).
        "entry_id": list(ErasurePropagation.objects.values_list("pk", flat=True)[:5]) or [1],
        "format": ["json", "api"],
        "provider_name": list(settings.WEBHOOK_PROVIDERS),
        "url": ["no-such-page/"],
    }
    assert name in known, f"the walk does not know how to fill <{name}> in {route}: add its values here"
    return known[name]


def model_of(route: str, callback):
    view_class = getattr(callback, "cls", None)  # a REST framework viewset's view
    if view_class is not None:
        return view_class.queryset.model
    app_label, model_name = re.match(r"admin/(\w+)/(\w+)/", route).groups()
    return ContentType.objects.get_by_natural_key(app_label, model_name).model_class()


# --- Invalid forms, from what the GET answer offered ------------------------------------------------------

FIELD = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"")
SELECTED = re.compile(r"name=\"_selected_action\" value=\"([^\"]+)\"")
ACTIONS = re.compile(r"<select name=\"action\"[^>]*>(.*?)</select>", re.S)
OPTION = re.compile(r"<option value=\"([^\"]+)\"")


def invalid_forms(page: str) -> list[dict]:
    """Every field the page's forms hold, with a NUL (no form accepts it); on a list, all its rows selected
    with each of its actions."""
    fields = {name: "\x00" for name in FIELD.findall(page) if name not in ("csrfmiddlewaretoken", "_selected_action")}
    if not fields:
        return []
    selected = SELECTED.findall(page)
    actions = OPTION.findall(ACTIONS.search(page)[1]) if ACTIONS.search(page) else []
    if not actions:
        return [fields]
    return [{**fields, "action": action, "_selected_action": selected, "index": "0"} for action in actions]
