"""The contact list's filters, picked from a list or typed in a box: each refuses a value it does not know
(the admin's "invalid filter" page) rather than show the whole list as if it were filtered."""

import json

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.web.list_filters import DateRangeFilter, InputFilter, LabelledValuesFilter
from contacts.labels import value_label
from contacts.selectors import distinct_values


class ErasedFilter(admin.SimpleListFilter):
    title = _("erased")
    parameter_name = "erased"
    CHOICES = {"yes": {"erased_at__isnull": False}, "no": {"erased_at__isnull": True}}

    def lookups(self, request, model_admin):
        return [("yes", _("Erased")), ("no", _("Not erased"))]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if self.value() not in self.CHOICES:
            # An unknown value would show the whole list as if it were filtered: the admin's "invalid filter" page.
            raise IncorrectLookupParameters(f"erased must be one of {', '.join(self.CHOICES)}")
        return queryset.filter(**self.CHOICES[self.value()])


class IndexedValuesFilter(admin.AllValuesFieldListFilter):
    """Django's "every value" filter, its values read through the column's index (``distinct_values``)."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = distinct_values(field_path)


class LabelledIndexedValuesFilter(IndexedValuesFilter, LabelledValuesFilter):
    """Source and status: their values in the reader's language ("Members" reads "Membros")."""

    label = staticmethod(value_label)


class ProviderFilter(admin.SimpleListFilter):
    """The configured providers (``WEBHOOK_PROVIDERS``); any other value is refused, not an empty list."""

    title = _("provider")
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        return [(name, name) for name in settings.WEBHOOK_PROVIDERS]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if self.value() not in settings.WEBHOOK_PROVIDERS:
            raise IncorrectLookupParameters("unknown provider")
        return queryset.filter(provider=self.value())


LONGEST_TAG = 200


class TagFilter(InputFilter):
    """Contacts carrying a tag (its exact text, any case): a JSON string inside the stored list."""

    title = _("tag")
    inputs = [("tag", _("tag"), "text")]

    def filter_for(self, values: dict) -> Q:
        if len(values["tag"]) > LONGEST_TAG:
            return Q(pk__in=[])  # no tag is that long (and SQLite refuses a LIKE pattern past 50,000 bytes)
        # The column's JSON text holds the tag as a JSON string, quotes included: "vip" finds the tag vip, not
        # vip-gold. SQLite keeps the text as Python wrote it (non-ASCII escaped), PostgreSQL's jsonb writes
        # its own (characters as they are).
        as_json = json.dumps(values["tag"], ensure_ascii=connection.vendor != "postgresql")
        return Q(tags__icontains=as_json)


class OwnerFilter(InputFilter):
    """Contacts assigned to one staff member at the provider (their id there)."""

    title = _("owner")
    inputs = [("assigned_to", _("owner's id"), "text")]

    def filter_for(self, values: dict) -> Q:
        return Q(assigned_to=values["assigned_to"])


class CreatedFilter(DateRangeFilter):
    title = _("first stored")
    field = "created_at"


class UpdatedFilter(DateRangeFilter):
    title = _("last changed")
    field = "updated_at"
