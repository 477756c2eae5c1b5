"""The erasure log in the admin: read-only records, their CSV export, and the "Was this person erased?"
lookup."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from config.admin import ReadOnlyModelAdmin, StoredIdSearchMixin
from config.list_filters import LabelledValuesFilter
from contacts.access import Kind
from contacts.admin.display import provider_key
from contacts.admin.exports import FilteredCsvExport
from contacts.admin.propagation import answer_view, propagation_table
from contacts.labels import actor_type_label
from contacts.models import ErasureRecord
from contacts.selectors import erasures_by_fingerprint
from contacts.services.erasure_log import verify_erasure_log

# Columns of the erasure log's CSV export: every field the hash covers, so the chain can be re-verified from
# the file. To do so, undo what makes the file safe to open: strip the leading ' that guards cells starting
# with = + - @ against spreadsheet formulas, re-read times as UTC datetimes and split erased_fields back into
# a list, then rebuild ErasureRecord.digest_chain_hash() (hash_scheme 2; a scheme-1 record's digest_hash).
EXPORT_FIELDS = ("sequence", "provider", "account_id", "external_id", "contact_id", "event_id", "requested_by",
                 "requested_by_type", "deleted_at", "erased_at", "reason", "reference", "erased_fields",
                 "redacted_events", "email_fingerprint", "phone_fingerprint", "hash_scheme", "blanked_digests",
                 "digest_hash", "prev_hash", "hash")  # fmt: skip


READABLE = {"requested_by_type": "requested_by_type_display"}


class RequesterTypeFilter(LabelledValuesFilter):
    label = staticmethod(actor_type_label)


@admin.register(ErasureRecord)
class ErasureRecordAdmin(StoredIdSearchMixin, FilteredCsvExport, ReadOnlyModelAdmin):
    """The erasure log: read-only for everyone, superusers included; CSV export needs its own permission
    (``contacts.export_erasurerecord``). "Was this person erased?" is answered by the lookup page."""

    list_display = ["sequence", "provider_key", "requester", "deleted_at", "erased_at", "why", "short_hash"]
    list_filter = ["provider", "reason", ("requested_by_type", RequesterTypeFilter),
                   ("erased_at", admin.DateFieldListFilter), ("deleted_at", admin.DateFieldListFilter)]  # fmt: skip
    # The reference is the request's ticket id: staff search by it.
    search_fields = ["=external_id", "=account_id", "=event_id", "=reference"]
    stored_id_fields = ("external_id", "account_id", "event_id")
    date_hierarchy = "erased_at"
    actions = ["export_selected_csv"]
    export_fields, export_name, export_ordering = EXPORT_FIELDS, "erasure-log", "sequence"
    export_access_kind = Kind.ERASURES_CSV
    list_per_page = 100
    show_full_result_count = False
    change_list_template = "admin/contacts/erasurerecord/change_list.html"  # adds the lookup link
    readonly_fields = ["propagation_table"]

    @admin.display(description=_("Told downstream"))
    def propagation_table(self, obj):
        return propagation_table(obj)

    @admin.display(description=_("Provider / account / id"), ordering="provider")
    def provider_key(self, obj):
        return provider_key(obj)

    @admin.display(description=_("Requested by"), ordering="requested_by_type")
    def requester(self, obj):
        return format_html('{}<br><span class="crm-muted">{}</span>', actor_type_label(obj.requested_by_type),
                           obj.requested_by or "—")  # fmt: skip

    @admin.display(description=_("requested by type"))
    def requested_by_type_display(self, obj):
        return actor_type_label(obj.requested_by_type)

    def get_fields(self, request, obj=None):
        # The requester's type in the reader's language (the stored code is what the API and the chain hold).
        return [READABLE.get(name, name) for name in super().get_fields(request, obj)]

    @admin.display(description=_("Reason"), ordering="reason")
    def why(self, obj):
        # The reference under the reason, as the requester's id sits under its type: one column, lists fit.
        return format_html(
            '{}<br><span class="crm-muted">{}</span>', obj.get_reason_display() or "—", obj.reference or "—"
        )

    @admin.display(description=_("Hash"))
    def short_hash(self, obj):
        return format_html("<code>{}…</code>", obj.hash[:12])

    def get_urls(self):
        lookup = path("lookup/", self.admin_site.admin_view(self.lookup_view), name="contacts_erasurerecord_lookup")
        answer = path(
            "propagation/<int:entry_id>/answer/",
            self.admin_site.admin_view(self.answer_view),
            name="contacts_erasurerecord_answer",
        )
        verify = path("verify/", self.admin_site.admin_view(self.verify_view), name="contacts_erasurerecord_verify")
        return [lookup, answer, verify, *super().get_urls()]

    def answer_view(self, request, entry_id):
        return answer_view(self, request, entry_id)

    def verify_view(self, request):
        """ "Verify the log now": the same run as ``manage.py verify_erasure_log``, recorded with who ran it;
        the dashboard shows the outcome. POST only (it writes the run)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = verify_erasure_log(verified_by=request.user.get_username())
        if run.ok:
            self.message_user(
                request,
                ngettext(
                    "The erasure log is unbroken: %(count)d record verified.",
                    "The erasure log is unbroken: %(count)d records verified.",
                    run.records,
                )
                % {"count": run.records},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                gettext("The erasure log is BROKEN at record #%(sequence)s: tell the operator at once.")
                % {"sequence": run.first_broken_sequence or "?"},
                messages.ERROR,
            )
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
            target = reverse("admin:index", current_app=self.admin_site.name)
        return HttpResponseRedirect(target)

    def lookup_view(self, request):
        """Answers "Was this person erased?": their email or phone, never stored, against the records' keyed
        fingerprints. Sent by POST so that neither lands in a URL or an access log."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ErasureLookupForm(request.POST or None)
        records, key_missing = None, not settings.ERASURE_FINGERPRINT_KEY
        if request.method == "POST" and form.is_valid() and not key_missing:
            records = list(erasures_by_fingerprint(**form.cleaned_data))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Was this person erased?"),
            "opts": self.opts,
            "form": form,
            "records": records,
            "key_missing": key_missing,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/contacts/erasurerecord/lookup.html", context)

    def export_value(self, obj, name):
        value = getattr(obj, name)
        return ",".join(value) if isinstance(value, list) else value


class ErasureLookupForm(forms.Form):
    email = forms.CharField(label=_("Email"), required=False, max_length=254)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=64,
                            help_text=_("However it is written: +55 47 99123-4567, (47) 99123-4567, …"))  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        cleaned["email"], cleaned["phone"] = cleaned.get("email", "").strip(), cleaned.get("phone", "").strip()
        if not (cleaned["email"] or cleaned["phone"]):
            raise forms.ValidationError(gettext("Give an email or a phone number."))
        return cleaned
