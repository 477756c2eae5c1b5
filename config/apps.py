from django.contrib.admin.apps import AdminConfig


class CrmAdminConfig(AdminConfig):
    """Installs ``config.admin.CrmAdminSite`` as ``admin.site``, so every ``@admin.register`` lands on it."""

    default_site = "config.admin.CrmAdminSite"

    def ready(self):
        super().ready()  # loads every app's admin module
        from django.contrib import admin
        from django.contrib.auth.signals import user_logged_in

        from config.staff.sessions import stamp_login
        from config.staff.staff_admin import install_staff_user_admin

        install_staff_user_admin(admin.site)
        user_logged_in.connect(stamp_login, dispatch_uid="config.staff.sessions.stamp_login")
