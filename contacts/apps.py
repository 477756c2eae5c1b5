from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib import admin

        from config.ops.metrics_view import add_database_gauges
        from config.staff.answer_reads import set_answer_reads_handler
        from contacts import checks, receivers  # noqa: F401  (registers the checks, connects the receivers)
        from contacts.access import ContactAccessTrail, record_answer
        from contacts.dashboard import contacts_panel, erasures_panel, requests_panel
        from contacts.gauges import erasure_log_gauges, propagation_gauges
        from webhooks.bridge import register_access_trail

        admin.site.add_dashboard_panel("contacts", contacts_panel)
        admin.site.add_dashboard_panel("erasures", erasures_panel)
        admin.site.add_dashboard_panel("requests", requests_panel)
        add_database_gauges("contacts", erasure_log_gauges)
        add_database_gauges("propagation", propagation_gauges)
        set_answer_reads_handler(record_answer)
        register_access_trail(ContactAccessTrail())
