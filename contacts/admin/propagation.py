"""An erasure's propagation on its record's page: every system that must be told and its status, and the
answer a compliance user gives for a manual one (done there, or impossible with the reason)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contacts.models import ErasurePropagation, ImpossibleReason, PropagationKind, PropagationStatus
from contacts.services.propagation import (
    AlreadyAnswered,
    AlreadyDelivered,
    propagation_of,
    settle_propagation,
    webhook_may_be_marked_impossible,
)

SETTLE_PERMISSION = "contacts.settle_erasurepropagation"


def propagation_table(record) -> str:
    entries = propagation_of([record])[record.pk]
    if not entries:
        return gettext("No downstream system was listed at the time of this erasure.")
    rows = format_html_join("", "<tr>{}</tr>", ((_row(entry),) for entry in entries))
    return format_html(
        '<table class="crm-propagation"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>'
        "</thead><tbody>{}</tbody></table>",
        gettext("System"), gettext("Kind"), gettext("Status"), gettext("When"), gettext("By / why"), rows,
    )  # fmt: skip


def _row(entry: dict) -> str:
    at = date_format(timezone.localtime(entry["at"]), "DATETIME_FORMAT") if entry["at"] else "—"
    if entry["answerable"]:
        url = reverse("admin:contacts_erasurerecord_answer", args=[entry["entry"].pk])
        detail = format_html('<a href="{}" class="crm-answer">{}</a>', url, gettext("Answer…"))
    else:
        reason = ImpossibleReason(entry["reason"]).label if entry["reason"] else ""
        detail = format_html("{}", " — ".join(part for part in (entry["by"], str(reason)) if part) or "—")
    return format_html(
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        entry["system"], PropagationKind(entry["kind"]).label, PropagationStatus(entry["status"]).label, at, detail,
    )  # fmt: skip


class AnswerForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Answer"),
        widget=forms.RadioSelect,
        choices=[
            (PropagationStatus.CONFIRMED, _("Done: the person was deleted there")),
            (PropagationStatus.IMPOSSIBLE, _("Impossible (LGPD Art. 18 §6)")),
        ],
    )
    reason = forms.ChoiceField(
        label=_("Why impossible"), required=False, choices=[("", "—"), *ImpossibleReason.choices]
    )

    def __init__(self, *args, webhook: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if webhook:  # a deactivated or removed webhook system's notice: it can only be marked impossible
            self.fields["status"].choices = [(PropagationStatus.IMPOSSIBLE, _("Impossible (LGPD Art. 18 §6)"))]
            self.fields["status"].initial = PropagationStatus.IMPOSSIBLE

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == PropagationStatus.IMPOSSIBLE and not cleaned.get("reason"):
            self.add_error("reason", gettext("Say why it is impossible."))
        return cleaned


def answer_view(model_admin, request, entry_id):
    if not request.user.has_perm(SETTLE_PERMISSION):
        raise PermissionDenied
    entry = ErasurePropagation.objects.select_related("erasure").filter(pk=entry_id).first()
    webhook = entry is not None and entry.kind == PropagationKind.WEBHOOK
    if entry is None or (webhook and not entry.settled_status and not webhook_may_be_marked_impossible(entry)):
        raise Http404
    record_url = reverse("admin:contacts_erasurerecord_change", args=[entry.erasure_id])
    form = AnswerForm(request.POST or None, webhook=webhook)
    if request.method == "POST" and form.is_valid():
        try:
            settle_propagation(
                entry, by=request.user.get_username(), status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except AlreadyDelivered:
            messages.error(request, gettext("%(system)s received the message meanwhile: delivered stands.")
                           % {"system": entry.system_name})  # fmt: skip
        except AlreadyAnswered:
            messages.error(request, gettext("Someone answered for this system already; the answer stands."))
        else:
            messages.success(request, gettext("The answer for %(system)s is recorded.") % {"system": entry.system_name})
        return HttpResponseRedirect(record_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Erasure #%(sequence)s: %(system)s")
        % {"sequence": entry.erasure.sequence, "system": entry.system_name},
        "opts": model_admin.opts,
        "form": form,
        "entry": entry,
        "record_url": record_url,
        "already_answered": bool(entry.settled_status),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/contacts/erasurerecord/answer_propagation.html", context)
