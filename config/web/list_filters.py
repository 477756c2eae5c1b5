"""List filters of our own: stored values shown in the reader's language (the value in the query string stays
the stored one, what the database holds and the API answers), and filters typed into boxes (a value, a range
of days)."""

from datetime import date, datetime, time, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LabelledValuesFilter(admin.AllValuesFieldListFilter):
    """Django's "every value" filter with each value shown through ``label`` (a subclass sets it)."""

    @staticmethod
    def label(value: str) -> str:
        return value

    def choices(self, changelist):
        labels = {str(value): self.label(str(value)) for value in self.lookup_choices if value is not None}
        for choice in super().choices(changelist):
            display = choice["display"]
            if isinstance(display, str) and display in labels:
                choice = {**choice, "display": labels[display]}
            yield choice


class InputFilter(admin.ListFilter):
    """A filter typed into boxes rather than picked from a list (a tag, an owner's id, a range of days): no
    list of every value to read from a large table. Each of ``inputs`` is ``(parameter, label, html type)``;
    a subclass says what a value selects in ``filter_for``."""

    template = "admin/crm_input_filter.html"
    inputs: list[tuple[str, str, str]] = []

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values = {}
        for parameter, _label, _type in self.inputs:
            if parameter in params:
                value = params.pop(parameter)
                value = value[-1] if isinstance(value, list) else value
                if value.strip():
                    self.values[parameter] = value.strip()
                self.used_parameters[parameter] = value

    def has_output(self):
        return True

    def expected_parameters(self):
        return [parameter for parameter, _label, _type in self.inputs]

    def filter_for(self, values: dict) -> Q:
        raise NotImplementedError

    def queryset(self, request, queryset):
        if not self.values:
            return queryset
        return queryset.filter(self.filter_for(self.values))

    def choices(self, changelist):
        parameters = self.expected_parameters()
        yield {
            "selected": bool(self.values),
            "inputs": [
                {"name": parameter, "label": label, "type": html_type, "value": self.values.get(parameter, "")}
                for parameter, label, html_type in self.inputs
            ],
            "hidden": [(name, value) for name, value in changelist.params.items() if name not in parameters],
            "clear": changelist.get_query_string(remove=parameters),
        }


class DateRangeFilter(InputFilter):
    """``field`` between two local days, both included (``<field>_from``, ``<field>_to``, as the browser's
    date inputs send them: 2026-12-31, whatever the language shows)."""

    field = ""

    def __init__(self, request, params, model, model_admin):
        self.inputs = [(f"{self.field}_from", _("from"), "date"), (f"{self.field}_to", _("to"), "date")]
        super().__init__(request, params, model, model_admin)

    def filter_for(self, values: dict) -> Q:
        condition = Q()
        if first := values.get(f"{self.field}_from"):
            condition &= Q(**{f"{self.field}__gte": _local_midnight(first)})
        if last := values.get(f"{self.field}_to"):
            condition &= Q(**{f"{self.field}__lt": _local_midnight(last, days_after=1)})
        return condition


def _local_midnight(day: str, *, days_after: int = 0) -> datetime:
    try:
        parsed = date.fromisoformat(day)
        return timezone.make_aware(datetime.combine(parsed + timedelta(days=days_after), time.min))
    except (ValueError, OverflowError):
        raise IncorrectLookupParameters("not a day") from None
