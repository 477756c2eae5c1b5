"""Stored values from the providers' closed lists (an FPT status like "Members", a Timely channel like
"widget") as the reader reads them. The provider modules mark those words for translation; the stored value,
which the API answers, stays the provider's."""

from django.utils.translation import gettext, pgettext, pgettext_lazy

# The contact fields whose values come from such lists.
LABELLED_FIELDS = ("source", "status")


def value_label(value: str) -> str:
    """The value in the reader's language; a value no provider lists, and any value in English, as stored."""
    return gettext(value) if value else value


# Who asked for an erasure (``ErasureRecord.requested_by_type``): a provider's actor type (marked by webhooks)
# or one of ours, marked here.
OUR_ACTOR_TYPES = (pgettext_lazy("actor type", "admin"), pgettext_lazy("actor type", "cli"))


def actor_type_label(value: str) -> str:
    return pgettext("actor type", value) if value else value
