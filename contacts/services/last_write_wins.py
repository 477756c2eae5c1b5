"""Per-field last-write-wins (sync rules 2–6): which change of a field is the newest, and applying an event's
values to one contact by that rule. Used for webhook events (``sync``) and looked-up states (``refresh``).

Every field a change set keeps its ``FieldVersion`` in ``Contact.field_versions``; a change older than the
version it would replace is stale and skipped, so every arrival order converges on the same contact.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from contacts.models import SYNCED_FIELDS, Contact
from contacts.normalize import SkippedValue, normalize_field
from webhooks.events import ContactEvent, Outcome, OutcomeStatus

# Entries of ``field_versions`` that are not fields (hence the underscore): the newest deletion, and the
# newest "something changed, look it up" signal (a look-up older than it leaves needs_refresh set).
DELETION_VERSION_KEY = "_deleted"
REFRESH_VERSION_KEY = "_refresh"
# A snapshot as of T already includes every change made at T, so it wins ties with events ("~" sorts
# after the letters and digits of any dedupe key).
SNAPSHOT_DEDUPE_KEY = "~snapshot"
# A label is applied only with the value it names (an event sets both, the value first).
LABELS = {"status": "status_id"}


@dataclass(frozen=True, order=True)
class FieldVersion:
    """Which change set a value: its time, then the dedupe key of its delivery, which breaks equal times
    (sync rule 3). Versions compare in that order. Stored as ``[time, dedupe key]`` (``to_json``), the shape
    every row already holds."""

    changed_at: datetime
    dedupe_key: str

    def __post_init__(self):
        if self.changed_at.tzinfo is None:
            raise ValueError("a field version's time must be aware")
        # One zone for every version: what they are compared and stored in.
        object.__setattr__(self, "changed_at", self.changed_at.astimezone(UTC))

    @classmethod
    def of_event(cls, event: ContactEvent) -> "FieldVersion":
        return cls(event.changed_at, event.dedupe_key)

    @classmethod
    def of_snapshot(cls, as_of: datetime) -> "FieldVersion":
        """A looked-up state's version (a naive ``as_of`` is read as UTC)."""
        return cls(as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC), SNAPSHOT_DEDUPE_KEY)

    @classmethod
    def from_json(cls, stored: list[str] | None) -> "FieldVersion | None":
        if stored is None:
            return None
        changed_at, dedupe_key = stored
        return cls(datetime.fromisoformat(changed_at), dedupe_key)

    def to_json(self) -> list[str]:
        # "2026-04-19T15:00:20.000000Z": fixed width in UTC, so stored versions also sort as text.
        return [self.changed_at.isoformat(timespec="microseconds").replace("+00:00", "Z"), self.dedupe_key]


def stored_version(contact: Contact, key: str) -> FieldVersion | None:
    """The version ``contact`` holds for a field (or for one of the ``_`` keys), or None."""
    return FieldVersion.from_json(contact.field_versions.get(key))


def apply_fields(contact: Contact, event: ContactEvent) -> Outcome:
    """Set every field of the event newer than the version the contact holds for it (and newer than the
    contact's last deletion: a contact reactivated after a soft deletion takes nothing from before it)."""
    version = FieldVersion.of_event(event)
    stored = version.to_json()
    versions = dict(contact.field_versions)
    floor = FieldVersion.from_json(versions.get(DELETION_VERSION_KEY))
    applied, stale, drift = [], [], []
    # A value the field cannot hold is skipped and named; the rest of the event applies.
    skipped = [name for name in event.unreadable if name in SYNCED_FIELDS]
    for name, raw in event.fields.items():
        if name not in SYNCED_FIELDS:
            continue
        try:
            if LABELS.get(name) in skipped:
                raise SkippedValue(f"{name} labels a value that was skipped")
            value = normalize_field(name, raw)
        except SkippedValue:
            skipped.append(name)
            continue
        current = FieldVersion.from_json(versions.get(name))
        if (current is not None and version <= current) or (floor is not None and version <= floor):
            stale.append(name)
            continue
        if name in event.previous and contact.pk is not None and _differs(name, event.previous[name], contact):
            drift.append(name)
        setattr(contact, name, value)
        versions[name] = stored
        applied.append(name)

    if event.complete:
        # Whole state known now: fields it carried stale are stale because we hold newer values.
        contact.needs_refresh = False
    if event.needs_refresh:
        contact.needs_refresh = True
        versions[REFRESH_VERSION_KEY] = newest_refresh_request(versions, version)
    contact.field_versions = versions
    field_times = [FieldVersion.from_json(stored).changed_at for key, stored in versions.items() if key[0] != "_"]
    if field_times:
        contact.remote_updated_at = max(field_times)

    reasons = []
    if skipped:
        reasons.append(f"values that cannot be stored skipped: {', '.join(sorted(set(skipped)))}")
    if stale:
        reasons.append(f"stale fields skipped: {', '.join(sorted(stale))}")
    if drift:
        reasons.append(f"drift in: {', '.join(sorted(drift))}")
    if event.needs_refresh and not applied:
        reasons.append("marked needs_refresh")
    return Outcome(
        status=OutcomeStatus.PROCESSED,
        reason="; ".join(reasons),
        changed=tuple(sorted(applied)),
        drift=tuple(sorted(drift)),
    )


def newest_refresh_request(versions: dict, version: FieldVersion) -> list[str]:
    """The stored ``_refresh`` entry once a look-up signal of ``version`` arrived: the newer of the two."""
    requested = FieldVersion.from_json(versions.get(REFRESH_VERSION_KEY))
    return max(version, requested or version).to_json()


def _differs(name: str, previous, contact: Contact) -> bool:
    """Whether the provider's ``before`` differs from our value; one we could never hold always does."""
    try:
        return normalize_field(name, previous) != getattr(contact, name)
    except SkippedValue:
        return True


def tombstone_versions(versions: dict, deletion: FieldVersion | None) -> tuple[dict, bool]:
    """A tombstone's versions and needs_refresh: the deletion's version, plus a reactivation signal newer
    than it (arrived first), so that every arrival order leaves the same tombstone."""
    if deletion is None:
        return {}, False
    tombstone = {DELETION_VERSION_KEY: deletion.to_json()}
    requested = FieldVersion.from_json(versions.get(REFRESH_VERSION_KEY))
    if requested is not None and requested > deletion:
        tombstone[REFRESH_VERSION_KEY] = requested.to_json()
        return tombstone, True
    return tombstone, False
