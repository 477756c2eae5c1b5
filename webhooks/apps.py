from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib import admin

        from config.ops.metrics_view import add_database_gauges
        from webhooks.bridge import register_stored_events
        from webhooks.dashboard import events_panel
        from webhooks.gauges import outbound_gauges, pending_event_gauges
        from webhooks.providers import checks  # noqa: F401  (registers the provider checks)
        from webhooks.stored_events import EventLog
        from webhooks.table_health import event_table_gauges

        admin.site.add_dashboard_panel("events", events_panel)
        add_database_gauges("webhooks", pending_event_gauges)
        add_database_gauges("outbound", outbound_gauges)
        add_database_gauges("event_table", event_table_gauges)
        register_stored_events(EventLog())
