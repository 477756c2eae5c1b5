from django.contrib.admin.apps import AdminConfig


class CrmAdminConfig(AdminConfig):
    """Installs ``config.admin.CrmAdminSite`` as ``admin.site``, so every ``@admin.register`` lands on it."""

    default_site = "config.admin.CrmAdminSite"
