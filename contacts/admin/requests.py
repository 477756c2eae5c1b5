"""The data-subject request desk in the admin: the register, its deadlines, and per request the person's
export, the confirmation summary and the erasure. Thin: the logic is in ``contacts.requests``."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contacts import requests as desk
from contacts.admin.erase import ErasureReasonForm
from contacts.erasure_reasons import REFERENCE_HELP, is_reference
from contacts.models import Contact, DataSubjectExport, DataSubjectRequest
from contacts.report import printable_report
from contacts.services.propagation import request_recipients

Status = DataSubjectRequest.Status


class DeadlineFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("due_soon", _("Due soon (%(days)s days)") % {"days": desk.DUE_SOON.days}),
            ("open", _("Open")),
            ("closed", _("Closed")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "overdue":
                return desk.overdue(queryset, now=now)
            case "due_soon":
                return desk.due_soon(queryset, now=now)
            case "open":
                return queryset.filter(status=Status.OPEN)
            case "closed":
                return queryset.exclude(status=Status.OPEN)
        return queryset


def contact_choice_label(contact) -> str:
    """How a contact is offered and shown when a request is linked to it: with its provider ids, since two
    people may share a name."""
    return f"{contact} — #{contact.pk} {contact.provider} / {contact.account_id} / {contact.external_id}"


class DataSubjectRequestForm(forms.ModelForm):
    class Meta:
        model = DataSubjectRequest
        fields = ["kind", "received_at", "due_at", "reference", "contacts", "status", "refusal_reason"]
        help_texts = {"reference": REFERENCE_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "due_at" in self.fields:  # absent when the user may only view
            self.fields["due_at"].required = False
        if "contacts" in self.fields:
            self.fields["contacts"].label_from_instance = contact_choice_label

    def clean_reference(self):
        # An erasure of this request keeps it in the erasure log, which nothing can ever erase: a ticket id only.
        reference = (self.cleaned_data.get("reference") or "").strip()
        if reference and not is_reference(reference):
            raise forms.ValidationError(
                _("Only a ticket id such as DSR-88 or LGPD/2026/0042: the erasure log keeps it forever.")
            )
        return reference

    def clean(self):
        cleaned = super().clean()
        contacts = list(cleaned.get("contacts") or [])
        try:
            desk.check_request_text(
                contacts=contacts, text=cleaned.get("refusal_reason") or "", label=str(_("refusal reason"))
            )
        except desk.TextQuotesPersonalData as exc:
            self.add_error("refusal_reason", str(exc))
        if cleaned.get("status") == Status.REFUSED and not (cleaned.get("refusal_reason") or "").strip():
            self.add_error("refusal_reason", _("A refused request needs the reason it was refused."))
        if cleaned.get("status") == Status.OPEN and (cleaned.get("refusal_reason") or "").strip():
            self.add_error("refusal_reason", _("Only a refused request has a refusal reason."))
        return cleaned


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    form = DataSubjectRequestForm
    list_display = ["number", "kind", "received_at", "due_at", "deadline_badge", "status", "handled_by",
                    "concerns"]  # fmt: skip
    list_filter = [DeadlineFilter, "status", "kind", ("received_at", admin.DateFieldListFilter)]
    list_select_related = ["handled_by"]
    search_fields = ["=id", "reference"]
    search_help_text = _("A request number or its reference (ticket number).")
    autocomplete_fields = ["contacts"]
    readonly_fields = ["handled_by", "closed_at", "anonymized_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["kind", "received_at", "due_at", "reference", "contacts"]}),
        (_("Answer"), {"fields": ["status", "refusal_reason", "handled_by", "closed_at"]}),
        (_("Record"), {"fields": ["anonymized_at", "created_at", "updated_at"]}),
    ]
    date_hierarchy = "received_at"
    list_per_page = 100
    show_full_result_count = False
    change_form_template = "admin/contacts/datasubjectrequest/change_form.html"

    class Media:
        css = {"all": ["crm/admin.css"]}

    def has_delete_permission(self, request, obj=None):
        return False  # the register's retention clears it (prune_data_subject_requests), nobody deletes it

    def has_change_permission(self, request, obj=None):
        # Once retention cleared it, a request is a read-only statistic: nothing may link it to a person again.
        if obj is not None and obj.anonymized_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def get_queryset(self, request):
        # The list names contacts by id only: their personal data is not read (nor on the access trail).
        return super().get_queryset(request).prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.only("pk", "erased_at"))
        )

    @admin.display(description=_("request"), ordering="id")
    def number(self, obj):
        return f"#{obj.pk}"

    @admin.display(description=_("deadline"))
    def deadline_badge(self, obj):
        state = desk.deadline_state(obj, now=timezone.now())
        labels = {"overdue": _("overdue"), "due_soon": _("due soon"), "on_time": _("on time"), "closed": _("closed")}
        css = {"overdue": "bad", "due_soon": "warn", "on_time": "ok", "closed": "muted"}[state]
        return format_html('<span class="crm-badge crm-badge-{}">{}</span>', css, labels[state])

    @admin.display(description=_("concerns"))
    def concerns(self, obj):
        contacts = list(obj.contacts.all())
        if not contacts:
            return _("(cleared by retention)") if obj.anonymized_at else "—"
        return ", ".join(f"#{contact.pk}" + (f" ({_('erased')})" if contact.is_erased else "") for contact in contacts)

    def save_model(self, request, obj, form, change):
        previous = DataSubjectRequest.objects.filter(pk=obj.pk).values_list("status", flat=True).first()
        desk.record_status(obj, user=request.user, previous_status=previous)
        super().save_model(request, obj, form, change)

    # --- The desk: per-request pages ------------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/export/<int:contact_id>/<str:export_format>/", view(self.export_view),
                 name="contacts_datasubjectrequest_export"),
            path("<int:object_id>/erase/", view(self.erase_view), name="contacts_datasubjectrequest_erase"),
            path("<int:object_id>/look-up/", view(self.look_up_view), name="contacts_datasubjectrequest_look_up"),
            path("<int:object_id>/answer/", view(self.answer_view), name="contacts_datasubjectrequest_answer"),
            *super().get_urls(),
        ]  # fmt: skip

    def has_export_permission(self, request):
        return request.user.has_perm("contacts.export_data_subject")

    def has_erase_permission(self, request):
        return request.user.has_perm("contacts.erase_contact")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if object_id and object_id.isdigit() else None
        if obj is not None:
            extra_context = {**(extra_context or {}), **self._desk_context(request, obj)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _desk_context(self, request, obj):
        contacts = list(obj.contacts.order_by("pk"))
        return {
            "desk": {
                "contacts": [desk.confirmation_summary(contact) for contact in contacts],
                "state": desk.deadline_state(obj, now=timezone.now()),
                "can_export": self.has_export_permission(request) and obj.anonymized_at is None,
                "can_erase": (
                    self.has_erase_permission(request)
                    and obj.asks_erasure
                    and obj.is_open
                    and any(not contact.is_erased for contact in contacts)
                ),
                "can_answer": obj.is_open and self.has_change_permission(request, obj),
                # Access, then erasure: the copy comes first, while there is something to export.
                "export_first": obj.kind == DataSubjectRequest.Kind.ACCESS_AND_ERASURE and not obj.exports.exists(),
                "can_look_up": (
                    self.has_change_permission(request, obj)
                    and obj.kind == DataSubjectRequest.Kind.CORRECTION
                    and obj.is_open
                    and bool(desk.correctable_at_provider(obj))
                ),
                "erasures": list(obj.erasures.order_by("sequence")),
                "recipients": request_recipients(list(obj.erasures.all())),
                "exports": list(obj.exports.select_related("exported_by")),
            }
        }

    def _request_or_404(self, request, object_id):
        obj = self.get_object(request, str(object_id))
        if obj is None:
            raise Http404
        return obj

    def export_view(self, request, object_id, contact_id, export_format):
        """One click: what we hold about the person, as JSON (portability) or a printable page (access)."""
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied
        obj = self._request_or_404(request, object_id)
        if export_format not in DataSubjectExport.Format.values or obj.anonymized_at is not None:
            raise Http404
        try:
            contact = desk.concerned_contact(obj, contact_id)
        except desk.ContactNotInRequest:
            raise Http404 from None
        document = desk.subject_export(contact, request=obj)
        desk.record_export(request=obj, contact=contact, user=request.user, export_format=export_format)
        stamp = f"{timezone.now():%Y%m%dT%H%M%SZ}"
        if export_format == DataSubjectExport.Format.JSON:
            response = HttpResponse(desk.subject_export_json(document), content_type="application/json; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="request-{obj.pk}-contact-{contact.pk}-{stamp}.json"'
            )
        else:
            response = TemplateResponse(
                request,
                "admin/contacts/datasubjectrequest/export.html",
                {"document": printable_report(document), "request_obj": obj,
                 "time_zone": timezone.get_current_timezone_name()},
            )
        response["Cache-Control"] = "no-store"
        return response

    def look_up_view(self, request, object_id):
        """POST: a correction was made at the provider; fetch the contacts' current state now."""
        obj = self._request_or_404(request, object_id)
        if request.method != "POST" or not self.has_change_permission(request, obj):
            raise PermissionDenied
        queued = desk.look_up_after_correction(obj)
        self.message_user(
            request,
            ngettext(
                "%(count)d contact queued for a look-up at its provider.",
                "%(count)d contacts queued for a look-up at their provider.",
                len(queued),
            )
            % {"count": len(queued)},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:contacts_datasubjectrequest_change", args=[obj.pk]))

    def response_add(self, request, obj, post_url_continue=None):
        """A new request opens on its desk (its actions), whichever save button was used, but "add another"."""
        if "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, _("Request #%(pk)s registered.") % {"pk": obj.pk}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:contacts_datasubjectrequest_change", args=[obj.pk]))

    def answer_view(self, request, object_id):
        """POST: the request's answer was given (the printable page sent, the correction made): close it."""
        obj = self._request_or_404(request, object_id)
        if request.method != "POST" or not self.has_change_permission(request, obj):
            raise PermissionDenied
        if desk.answer_request(obj, user=request.user):
            self.message_user(request, _("Request #%(pk)s marked answered.") % {"pk": obj.pk}, messages.SUCCESS)
        else:
            self.message_user(request, _("This request was already closed."), messages.WARNING)
        return HttpResponseRedirect(reverse("admin:contacts_datasubjectrequest_change", args=[obj.pk]))

    def erase_view(self, request, object_id):
        """Confirmation page; on POST, every concerned contact is erased through the erasure service."""
        obj = self._request_or_404(request, object_id)
        if not (self.has_change_permission(request, obj) and self.has_erase_permission(request)):
            raise PermissionDenied
        change_url = reverse("admin:contacts_datasubjectrequest_change", args=[obj.pk])
        if not obj.asks_erasure or not obj.is_open:
            self.message_user(request, _("Only an open erasure request erases."), messages.ERROR)
            return HttpResponseRedirect(change_url)
        reason_form = ErasureReasonForm(request.POST if request.method == "POST" else None)
        if reason_form.is_valid():
            created, existing = desk.erase_from_request(
                request=obj, user=request.user, reason=reason_form.cleaned_data["reason"]
            )
            obj.refresh_from_db()
            if obj.status == Status.ANSWERED:
                self.message_user(request, _("The erasure answers the request: marked answered."), messages.SUCCESS)
            self.message_user(
                request,
                ngettext(
                    "Erased %(count)d contact; the erasure log holds the record.",
                    "Erased %(count)d contacts; the erasure log holds the records.",
                    len(created),
                )
                % {"count": len(created)},
                messages.SUCCESS,
            )
            if existing:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d contact was already erased: its record is linked.",
                        "%(count)d contacts were already erased: their records are linked.",
                        len(existing),
                    )
                    % {"count": len(existing)},
                    messages.INFO,
                )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Erase the person's data (request #%(pk)s)") % {"pk": obj.pk},
            "opts": self.model._meta,
            "original": obj,
            "contacts": list(obj.contacts.order_by("pk")),
            "reason_form": reason_form,
            "reference": desk.erasure_reference(obj),
            "answers_request": obj.kind == DataSubjectRequest.Kind.ERASURE or obj.exports.exists(),
            "export_first": obj.kind == DataSubjectRequest.Kind.ACCESS_AND_ERASURE and not obj.exports.exists(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/contacts/datasubjectrequest/erase_confirmation.html", context)
