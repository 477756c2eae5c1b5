"""CSV exports from the admin's lists, behind their own permission and on the access trail."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.web.csv_export import column_titles, csv_response
from contacts.access import Kind, record_access


class FilteredCsvExport:
    """An "Export CSV" link on the list (the list as filtered and searched) and an action for the selected
    rows, both behind the model's own ``export_<model>`` permission: taking data out of the system is a
    separate act from reading it. The file holds ``export_fields``, each through ``export_value``."""

    change_list_template = "admin/crm_export_change_list.html"
    export_fields: tuple[str, ...] = ()
    export_name = "export"
    export_ordering = "pk"
    export_access_kind: Kind

    def has_export_permission(self, request):
        return request.user.has_perm(f"{self.opts.app_label}.export_{self.opts.model_name}")

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        return [path("export/", self.admin_site.admin_view(self.export_view), name=name), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_export_permission": self.has_export_permission(request)}
        return super().changelist_view(request, extra_context=extra_context)

    def export_view(self, request):
        """The whole list as the changelist shows it (same filters, search and date drill-down)."""
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            changelist_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
            return HttpResponseRedirect(f"{changelist_url}?e=1")
        return self.csv_export(request, changelist.get_queryset(request))

    @admin.action(description=_("Export selected %(verbose_name_plural)s as CSV"), permissions=["export"])
    def export_selected_csv(self, request, queryset):
        return self.csv_export(request, queryset)

    def csv_export(self, request, queryset):
        # Every export is on the access trail: who took how many rows out.
        record_access(user=request.user, kind=self.export_access_kind, rows=queryset.count())
        rows = queryset.order_by(self.export_ordering).iterator(chunk_size=1000)
        return csv_response(
            filename=f"{self.export_name}-{timezone.now():%Y%m%dT%H%M%SZ}.csv",
            header=column_titles(self.model, self.export_fields),
            rows=([self.export_value(obj, name) for name in self.export_fields] for obj in rows),
        )

    def export_value(self, obj, name):
        return getattr(obj, name)
