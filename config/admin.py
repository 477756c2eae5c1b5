"""Our admin site: Django's, with a dashboard above the app list on the home page, behind a second factor."""

from functools import partial

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from config import two_factor
from config.dashboard import build_dashboard


class CrmAdminSite(admin.AdminSite):
    site_header = "crm-sync"
    site_title = "crm-sync admin"
    index_title = "Dashboard"
    index_template = "admin/crm_index.html"

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "dashboard": build_dashboard(request.user)}
        return super().index(request, extra_context)

    def login(self, request, extra_context=None):
        if request.method == "GET" and two_factor.needs_second_factor(request.user):
            # Past the password already: the next step is the second factor, not the password form again.
            return redirect_to_login(request.GET.get("next", ""), reverse("admin:two_factor_verify"))
        return super().login(request, extra_context)

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


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For logs and records that nobody edits through the admin, superusers included."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
