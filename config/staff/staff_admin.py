"""The user admin with the administrator's answers to a lost phone or a stolen session.

Its own module: it imports django.contrib.auth's admin, which registers on ``admin.site`` when imported, so
it can load only once our site exists (``CrmAdminConfig.ready``).
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.staff import two_factor
from config.staff.sessions import end_all_sessions


class StaffUserAdmin(UserAdmin):
    """Django's user admin, plus two actions for administrators."""

    actions = ["log_out_everywhere", "reset_two_factor"]

    @admin.action(description=_("Log out everywhere (end every session)"), permissions=["change"])
    def log_out_everywhere(self, request, queryset):
        ended = sum(end_all_sessions(user) for user in queryset)
        message = gettext("Ended %(sessions)d session(s) of %(users)d user(s).")
        self.message_user(request, message % {"sessions": ended, "users": queryset.count()}, messages.SUCCESS)

    @admin.action(description=_("Reset two-factor (new enrolment at next login; logs out)"), permissions=["change"])
    def reset_two_factor(self, request, queryset):
        for user in queryset:
            two_factor.remove_devices(user)
            end_all_sessions(user)
            self.log_change(request, user, "Two-factor devices reset; every session ended.")
        message = gettext("Two-factor reset for %(users)d user(s).")
        self.message_user(request, message % {"users": queryset.count()}, messages.SUCCESS)


def install_staff_user_admin(site: admin.AdminSite) -> None:
    """Replace django.contrib.auth's registration (called once every app's admin module was loaded)."""
    user_model = get_user_model()
    if site.is_registered(user_model):
        site.unregister(user_model)
    site.register(user_model, StaffUserAdmin)
