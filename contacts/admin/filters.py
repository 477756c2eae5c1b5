"""The contact list's filters: each refuses a value it does not know (the admin's "invalid filter" page)
rather than show the whole list as if it were filtered."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils.translation import gettext_lazy as _

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
