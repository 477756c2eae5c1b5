"""The demo's people: made-up Brazilian contacts (Faker's pt_BR locale) and what happens to them at the
providers (created, updated, tagged, assigned, a few deleted), in no provider's shape. Each provider module
turns a change into the deliveries it would send (``WebhookProvider.demo_payloads``); ``webhooks.demo``
sends them. The same seed makes the same people and the same event ids. Imports nothing of the project.
"""

import random
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

HISTORY_DAYS = 60  # the made-up history spans the days before it ends
CHANNELS = ("whatsapp", "whatsapp", "whatsapp", "instagram", "widget", "telegram", "api", "manual")
TAGS = ("cliente-vip", "pagamento-pendente", "lead-quente", "indicação", "plano-anual", "aula-experimental",
        "retorno-agendado", "black-friday")  # fmt: skip
PLANS = ("básico", "pro", "premium")
AREA_CODES = (11, 21, 31, 41, 47, 48, 51, 61, 71, 81, 85, 92)
OWNERS = 6  # staff members at the providers the contacts are assigned to
GROUPS = 5  # sub-groups a provider may keep contacts in
UPDATED_SHARE, DELETED_SHARE = 0.4, 0.03


class Stage(StrEnum):
    """Where a person is in the business: a provider with statuses maps these to its own."""

    LEAD = "lead"
    PROSPECT = "prospect"
    MEMBER = "member"
    PAST_MEMBER = "past_member"


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(frozen=True)
class DemoPerson:
    """A made-up person as the provider holds them. ``number`` is theirs in the demo (a provider makes its ids
    from it), ``account`` which of the provider's accounts they are in, ``owner`` and ``group`` small
    numbers (a provider makes its ids from them) or None."""

    number: int
    provider: str
    account: int
    name: str
    phone: str
    email: str
    channel: str
    tags: tuple[str, ...]
    owner: int | None
    stage: Stage
    group: int | None
    plan: str
    city: str


@dataclass(frozen=True)
class DemoChange:
    """One thing that happened to a person at their provider: ``person`` as it is after it, ``before`` as it
    was (updates), ``at`` when, ``key`` unique in the demo and the same for the same seed (event ids)."""

    kind: ChangeKind
    person: DemoPerson
    at: datetime
    key: str
    before: DemoPerson | None = None


def demo_history(count: int, *, seed: int, providers: dict[str, int], ends: datetime) -> list[DemoChange]:
    """``count`` people shared among ``providers`` (name: weight) and their changes over the days before
    ``ends``: every creation, then updates (about 40%), then deletions (about 3%, at least one per provider
    once it has ten people)."""
    from faker import Faker

    rng, fake = random.Random(seed), Faker("pt_BR")  # noqa: S311  (made-up people, not secrets)
    fake.seed_instance(seed)
    names = [name for name, weight in sorted(providers.items()) for _ in range(weight)]
    people = [made_up_person(number, names[number % len(names)], rng, fake) for number in range(1, count + 1)]
    start = ends - timedelta(days=HISTORY_DAYS)
    changes = []
    for person in people:
        at = start + timedelta(seconds=rng.randrange(HISTORY_DAYS * 86400 // 2))
        changes.append(DemoChange(ChangeKind.CREATED, person, at, key=f"{seed}-{person.number}-c"))
    latest = {change.person.number: change for change in changes}
    for number in rng.sample(sorted(latest), k=round(count * UPDATED_SHARE)):
        previous = latest[number]
        after = updated_person(previous.person, rng, fake)
        at = previous.at + timedelta(minutes=rng.randrange(30, 60 * 24 * 20))
        latest[number] = DemoChange(ChangeKind.UPDATED, after, at, key=f"{seed}-{number}-u", before=previous.person)
        changes.append(latest[number])
    for number in deleted_numbers(people, rng):
        previous = latest[number]
        at = previous.at + timedelta(hours=rng.randrange(1, 24 * 5))
        changes.append(DemoChange(ChangeKind.DELETED, previous.person, at, key=f"{seed}-{number}-d"))
    return changes


def made_up_person(number: int, provider: str, rng: random.Random, fake) -> DemoPerson:
    first = fake.first_name()
    last = f"{fake.last_name()} {fake.last_name()}" if rng.random() < 0.6 else fake.last_name()
    mobile = f"+55{rng.choice(AREA_CODES)}9{rng.randint(6, 9)}{rng.randrange(10**7):07d}"
    local_part = ascii_words(f"{first}.{last.split()[-1]}") + (str(rng.randrange(100)) if rng.random() < 0.3 else "")
    return DemoPerson(
        number=number,
        provider=provider,
        account=0 if rng.random() < 0.8 else 1,
        name=f"{first} {last}",
        phone=mobile if rng.random() < 0.9 else "",
        email=f"{local_part}@{fake.free_email_domain()}" if rng.random() < 0.85 else "",
        channel=rng.choice(CHANNELS),
        tags=tuple(sorted(rng.sample(TAGS, k=rng.choice((0, 0, 1, 1, 2))))),
        owner=rng.randrange(1, OWNERS + 1) if rng.random() < 0.7 else None,
        stage=rng.choice((Stage.LEAD, Stage.LEAD, Stage.PROSPECT, Stage.MEMBER, Stage.MEMBER)),
        group=rng.randrange(1, GROUPS + 1) if rng.random() < 0.6 else None,
        plan=rng.choice(PLANS),
        city=fake.city(),
    )


def updated_person(person: DemoPerson, rng: random.Random, fake) -> DemoPerson:
    """The person after one of the things that happen: a tag, a new owner, a surname, a step in the business."""
    what = rng.choice(("tags", "owner", "name", "stage", "group", "plan"))
    if what == "tags":
        return replace(person, tags=tuple(sorted({*person.tags, rng.choice(TAGS)})) or ("cliente-vip",))
    if what == "owner":
        return replace(person, owner=(person.owner or 0) % OWNERS + 1)
    if what == "name":
        return replace(person, name=f"{person.name} {fake.last_name()}")
    if what == "stage":
        after = {Stage.LEAD: Stage.PROSPECT, Stage.PROSPECT: Stage.MEMBER, Stage.MEMBER: Stage.PAST_MEMBER}
        return replace(person, stage=after.get(person.stage, Stage.MEMBER))
    if what == "group":
        return replace(person, group=(person.group or 0) % GROUPS + 1)
    return replace(person, plan=rng.choice([plan for plan in PLANS if plan != person.plan]))


def deleted_numbers(people: list[DemoPerson], rng: random.Random) -> list[int]:
    chosen = []
    for provider in sorted({person.provider for person in people}):
        theirs = [person.number for person in people if person.provider == provider]
        chosen += rng.sample(theirs, k=max(round(len(theirs) * DELETED_SHARE), 1 if len(theirs) >= 10 else 0))
    return sorted(chosen)


def ascii_words(text: str) -> str:
    """``Conceição.Ávila`` as ``conceicao.avila``: what an email address is made of."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(char for char in folded if char.isalnum() or char == ".")
