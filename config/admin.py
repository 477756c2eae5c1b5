"""Our admin site: Django's, with a dashboard above the app list on the home page, and changelists that
answer a filter or search value the database cannot take with the admin's own "invalid filter" page."""

from functools import cache

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import EmptyResultSet, ValidationError

from config.dashboard import build_dashboard
from config.query_values import first_problem


class ValidatedChangeListMixin:
    """Refuses, as ``IncorrectLookupParameters`` (Django's redirect to ``?e=1``), every query string whose
    filters, date drill-down or search would build a query the database errors on.

    Django catches some bad values itself (a field that does not exist, ``year=0``); others pass it and
    fail later, as a 500: ``year=9999`` (the year after it does not exist), a NUL or a ``+16:00`` offset
    on PostgreSQL, a time past year 9999 in UTC on SQLite. Checking the finished query's parameters covers
    every kind of filter, search and drill-down at once, including ones added later.
    """

    def get_queryset(self, request, exclude_parameters=None):
        try:
            queryset = super().get_queryset(request, exclude_parameters)
            parameters = _query_parameters(queryset)
        except (ValueError, OverflowError, ValidationError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        if (problem := first_problem(parameters)) is not None:
            raise IncorrectLookupParameters(f"a filter or search value {problem}")
        return queryset


def _query_parameters(queryset) -> tuple:
    """The values the queryset would send, converted for its database (which is where SQLite overflows)."""
    try:
        _sql, parameters = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        return ()  # nothing is sent: the filter can match no row
    return parameters


@cache
def validated_changelist(changelist_class: type) -> type:
    return type(f"Validated{changelist_class.__name__}", (ValidatedChangeListMixin, changelist_class), {})


class ValidatedFiltersMixin:
    """For a ModelAdmin: its changelist, whichever class it uses, validates as ``ValidatedChangeListMixin``."""

    def get_changelist(self, request, **kwargs):
        return validated_changelist(super().get_changelist(request, **kwargs))


class CrmAdminSite(admin.AdminSite):
    site_header = "crm-sync"
    site_title = "crm-sync admin"
    index_title = "Dashboard"
    index_template = "admin/crm_index.html"

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "dashboard": build_dashboard(request.user)}
        return super().index(request, extra_context)

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every ModelAdmin registered here, ours and Django's (users, groups, tokens, tasks), validates its
        filters: a hostile query string is an invalid filter, never a 500."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, ValidatedFiltersMixin):
            admin_class = type(
                admin_class.__name__,
                (ValidatedFiltersMixin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        super().register(model_or_iterable, admin_class, **options)


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For logs and records that nobody edits through the admin, superusers included."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
