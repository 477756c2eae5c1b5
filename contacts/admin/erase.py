"""Erasing a contact from the admin on a data-subject request: the list's action and the contact page's
button, both through one confirmation page where staff choose the reason's code and may give a ticket id."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from contacts.erasure_reasons import REFERENCE_HELP, REFERENCE_MAX_LENGTH, STAFF_REASONS, ErasureReason, is_reference
from contacts.services import AlreadyErased, erase_on_request


class ErasesOnRequest:
    """For the contact admin: the ``erase_data_subject`` action, behind ``contacts.erase_contact``."""

    def has_erase_permission(self, request):
        return request.user.has_perm("contacts.erase_contact")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The contact page's Erase button posts the list's erase action for this one contact: the same
        # confirmation page, reason and checks as erasing from the list.
        context["can_erase"] = bool(obj is not None and self.has_erase_permission(request) and not obj.is_erased)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    @admin.action(description=_("Erase (data-subject request)"), permissions=["erase"])
    def erase_data_subject(self, request, queryset):
        """Confirmation page with a required reason; on confirm, erase each contact still holding data."""
        contacts = [c for c in queryset.order_by("pk") if not c.is_erased]
        already_erased = queryset.count() - len(contacts)
        form = ErasureRequestForm(request.POST if request.POST.get("post") else None)
        if contacts and form.is_valid():
            erased = 0
            for contact in contacts:
                try:
                    erase_on_request(
                        contact=contact,
                        requested_by=request.user.get_username(),
                        requested_by_type="admin",
                        reason=form.cleaned_data["reason"],
                        reference=form.cleaned_data["reference"],
                    )
                except AlreadyErased:
                    continue  # erased meanwhile (e.g. by the provider's deletion): already in the log
                erased += 1
                contact.refresh_from_db()
                self.log_change(request, contact, "Erased (data-subject request)")
            self.message_user(
                request,
                ngettext("Erased %(count)d contact; see the erasure log.",
                         "Erased %(count)d contacts; see the erasure log.", erased) % {"count": erased},
                messages.SUCCESS,
            )  # fmt: skip
            return None
        if not contacts:
            self.message_user(
                request, gettext("The selected contacts were already erased: nothing to do."), messages.INFO
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Erase personal data (data-subject request)"),
            "opts": self.model._meta,
            "contacts": contacts,
            "already_erased": already_erased,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/contacts/contact/erase_confirmation.html", context)


class ErasureReasonForm(forms.Form):
    """The reason as the erasure log keeps it: a code and an optional ticket id, never free text (the log can
    never be erased). Also the request desk's."""

    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[(code.value, code.label) for code in STAFF_REASONS],
        initial=ErasureReason.DATA_SUBJECT_REQUEST,
        required=False,
    )

    def clean_reason(self):
        # Left out of the POST (a script, an older page): the default, a data-subject request.
        return self.cleaned_data["reason"] or ErasureReason.DATA_SUBJECT_REQUEST


class ErasureRequestForm(ErasureReasonForm):
    reference = forms.CharField(
        label=_("Reference"), required=False, max_length=REFERENCE_MAX_LENGTH, help_text=REFERENCE_HELP
    )

    def clean_reference(self):
        reference = self.cleaned_data["reference"].strip()
        if reference and not is_reference(reference):
            raise forms.ValidationError(
                _("Only a ticket id such as DSR-88 or LGPD/2026/0042: the erasure log keeps it forever.")
            )
        return reference
