"""The access trail: who read or exported contacts' data."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models.contact import Contact


class ContactAccess(models.Model):
    """The access trail: who read or exported contacts' data, when, and how (LGPD Art. 37).

    Ids only, never a copied value: one row per contact an answer showed (a page, a list page, an action's
    page, an API read, an export), naming it in ``contact``, with the page it went through (``kind``,
    ``via``), how many contacts that answer showed (``rows``) and its filter (parameter names; values only
    where they cannot describe a person, see ``contacts.access``). A bulk export also leaves one row with
    its count and no contact. An erasure leaves these rows: they answer who saw the person before.
    """

    class Kind(models.TextChoices):
        CONTACT_PAGE = "contact_page", _("Contact page viewed (admin)")
        CONTACT_HISTORY = "contact_history", _("Contact's change history viewed (admin)")
        CONTACT_LIST = "contact_list", _("Contact list viewed (admin)")
        API_CONTACT = "api_contact", _("Contact read (API)")
        API_CONTACT_LIST = "api_contact_list", _("Contact list read (API)")
        CONTACTS_CSV = "contacts_csv", _("Contacts exported (CSV)")
        EVENTS_CSV = "events_csv", _("Webhook events exported (CSV)")
        EVENTS_JSON = "events_json", _("Webhook events exported (JSON)")
        ERASURES_CSV = "erasures_csv", _("Erasure log exported (CSV)")
        DATA_SUBJECT_EXPORT = "data_subject_export", _("Data-subject export")
        CONTACT_ACTION = "contact_action", _("Action page on selected contacts (admin)")
        CONTACT_SEARCH = "contact_search", _("Contact search offered (admin)")
        REQUEST_DESK = "request_desk", _("Data-subject request desk (admin)")
        EVENT_PAGE = "event_page", _("Webhook event page viewed (admin)")
        API_EVENT = "api_event", _("Webhook event read (API)")
        API_EVENT_LIST = "api_event_list", _("Webhook event list read (API)")
        ADMIN_PAGE = "admin_page", _("Other admin page")
        API_READ = "api_read", _("Other API read")

    at = models.DateTimeField(_("at"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, db_index=False, related_name="+",
        verbose_name=_("user"), help_text=_("Empty for a management command (run by whoever has shell access)."),
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, db_index=False,
                                related_name="+", verbose_name=_("contact"))  # fmt: skip
    via = models.CharField(
        _("via"), max_length=100, blank=True, default="",
        help_text=_("The page or API endpoint (its URL name), and the admin action if one was asked for."),
    )  # fmt: skip
    rows = models.PositiveIntegerField(
        _("rows"), null=True, blank=True, help_text=_("How many contacts the answer showed, or an export held.")
    )
    filters = models.JSONField(
        _("filters"), default=dict, blank=True, help_text=_("Lists: the filter used, without personal data.")
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("contact access")
        verbose_name_plural = _("access trail")
        indexes = [
            models.Index(fields=["at"], name="access_at_idx"),
            models.Index(fields=["contact", "at"], name="access_contact_idx"),
            models.Index(fields=["user", "at"], name="access_user_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M:%S}"
