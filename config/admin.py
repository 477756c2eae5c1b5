"""Our admin site: Django's, with a dashboard above the app list on the home page, behind a second factor,
and changelists that answer a filter or search value the database cannot take with the admin's own
"invalid filter" page.

The dashboard's panels come from the apps (each adds its own in its ``ready``): the site, like all of
``config``, imports no app."""

from collections.abc import Callable
from datetime import datetime
from functools import cache, partial

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db.models import Q
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from config import two_factor
from config.erased_ids import id_forms
from config.query_values import first_problem
from config.third_party import app_list_in_readers_language


class ValidatedChangeListMixin:
    """Refuses, as ``IncorrectLookupParameters`` (Django's redirect to ``?e=1``), every query string whose
    filters, date drill-down or search would build a query the database errors on.

    Django catches some bad values itself (a field that does not exist, ``year=0``); others pass it and
    fail later, as a 500: ``year=9999`` (the year after it does not exist), a NUL or a ``+16:00`` offset
    on PostgreSQL, a time past year 9999 in UTC on SQLite. Checking the finished query's parameters covers
    every kind of filter, search and drill-down at once, including ones added later.

    The search box is checked first, by Django's own search form: a term it refuses (a NUL) would
    otherwise be dropped with a message, and the list, or an export of it, would hold every row.
    """

    def __init__(self, request, *args, **kwargs):
        search_form = self.search_form_class(request.GET)
        if not search_form.is_valid():
            raise IncorrectLookupParameters(f"a search value is refused: {search_form.errors.as_text()}")
        super().__init__(request, *args, **kwargs)

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
    """For a ModelAdmin: its changelist, whichever class it uses, validates as ``ValidatedChangeListMixin``; its
    autocomplete fields show a refused form again (``ChosenKeysOnly``) instead of failing."""

    def get_changelist(self, request, **kwargs):
        return validated_changelist(super().get_changelist(request, **kwargs))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class StoredIdSearchMixin:
    """A search box over id columns (``=field`` search fields) that also finds an id not in plain form,
    typed as it was sent ("Maria Souza", an email address), whole: by the keyed digest it is stored as
    (``config.erased_ids``), or as it is where it was recorded before that rule. Django's search would
    split it into words and look for each."""

    stored_id_fields: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        forms = id_forms(search_term.strip())
        if len(forms) > 1:
            whole = Q()
            for name in self.stored_id_fields:
                whole |= Q(**{f"{name}__in": forms})
            results |= queryset.filter(whole)
        return results, may_have_duplicates


class ChosenKeysOnly:
    """An autocomplete widget shown again with a refused form looks its chosen values up to label them; a value
    that is no key of the model (a word, a NUL) would make that lookup raise (a 500). It is left out: the form
    already says it is not a valid choice."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [item for item in value if _is_key(self.field, item)], attr)


def _is_key(field, value) -> bool:
    try:
        field.target_field.get_prep_value(value)
    except (TypeError, ValueError, ValidationError):
        return False
    return True


class CheckedAutocompleteSelect(ChosenKeysOnly, AutocompleteSelect):
    pass


class CheckedAutocompleteSelectMultiple(ChosenKeysOnly, AutocompleteSelectMultiple):
    pass


class LabelledAutocompleteJsonView(AutocompleteJsonView):
    """Django's autocomplete, asking the searched model's admin for ``autocomplete_label(obj)``: a result's
    text (e.g. a contact's provider ids beside its name, so homonyms can be told apart)."""

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        if (label := getattr(self.model_admin, "autocomplete_label", None)) is not None:
            result["text"] = label(obj)
        return result


class CrmAdminSite(admin.AdminSite):
    site_header = "crm-sync"
    site_title = _("crm-sync admin")
    index_title = _("Dashboard")
    index_template = "admin/crm_index.html"
    # Django's app sidebar on every page takes 300 px from the lists (they must fit a 1,366 px screen); the
    # home page and the breadcrumbs lead everywhere it did.
    enable_nav_sidebar = False
    # There is no public site to "view": / redirects here.
    site_url = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dashboard_panels: dict[str, Callable] = {}

    def add_dashboard_panel(self, name: str, build: Callable) -> None:
        """``build(user, *, now)`` returns the context of the home page's panel ``name`` (the template
        ``admin/crm_dashboard.html`` draws it as ``dashboard.<name>``), or None for staff who may not see it."""
        self.dashboard_panels[name] = build

    def dashboard(self, user, *, now: datetime | None = None) -> dict:
        now = now or timezone.now()
        panels = {name: build(user, now=now) for name, build in self.dashboard_panels.items()}
        return {"now": now, **{name: panel for name, panel in panels.items() if panel is not None}}

    def get_app_list(self, request, app_label=None):
        return app_list_in_readers_language(super().get_app_list(request, app_label))

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "dashboard": self.dashboard(request.user)}
        return super().index(request, extra_context)

    def login(self, request, extra_context=None):
        if request.method == "GET" and two_factor.needs_second_factor(request.user):
            # Past the password already: the next step is the second factor, not the password form again.
            return redirect_to_login(request.GET.get("next", ""), reverse("admin:two_factor_verify"))
        return super().login(request, extra_context)

    def autocomplete_view(self, request):
        return LabelledAutocompleteJsonView.as_view(admin_site=self)(request)

    def has_permission(self, request):
        # Besides AdminTwoFactorMiddleware: every view wrapped by admin_view() refuses an unverified session.
        return super().has_permission(request) and not two_factor.needs_second_factor(request.user)

    def get_urls(self):
        return [
            path("two-factor/verify/", self._signed_in_staff_view(two_factor.verify_view), name="two_factor_verify"),
            path("two-factor/setup/", self._signed_in_staff_view(two_factor.setup_view), name="two_factor_setup"),
            path(
                "two-factor/backup-codes/",
                self.admin_view(partial(two_factor.backup_codes_view, site=self)),
                name="two_factor_backup_codes",
            ),
            *super().get_urls(),
        ]

    def _signed_in_staff_view(self, view):
        """For the second-factor pages themselves: a staff password login is enough to open them."""

        def inner(request):
            if not (request.user.is_active and request.user.is_staff):
                return redirect_to_login(request.get_full_path(), reverse("admin:login", current_app=self.name))
            return view(request, self)

        return never_cache(csrf_protect(inner))

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
