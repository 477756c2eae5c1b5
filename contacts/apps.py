from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from contacts import checks, receivers  # noqa: F401  (registers the checks, connects the receiver)
