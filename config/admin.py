"""Our admin site: Django's, with a dashboard above the app list on the home page."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from config.dashboard import build_dashboard


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

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "dashboard": build_dashboard(request.user)}
        return super().index(request, extra_context)


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For logs and records that nobody edits through the admin, superusers included."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
