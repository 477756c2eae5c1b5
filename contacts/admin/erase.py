"""Erasing a contact from the admin on a data-subject request: the list's action and the contact page's
button, both through one confirmation page with a required reason."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from contacts.services import AlreadyErased, check_reason, erase_on_request


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
        form = ErasureRequestForm(request.POST if request.POST.get("post") else None, contacts=contacts)
        if contacts and form.is_valid():
            erased = 0
            for contact in contacts:
                try:
                    erase_on_request(
                        contact=contact,
                        requested_by=request.user.get_username(),
                        requested_by_type="admin",
                        reason=form.cleaned_data["reason"],
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


class ErasureRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text=_(
            "Why (e.g. the request's ticket number). Kept forever in the erasure log: never the "
            "person's name, email or phone."
        ),
    )

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.contacts = contacts

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        for contact in self.contacts:
            try:
                check_reason(contact=contact, reason=reason)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return reason
