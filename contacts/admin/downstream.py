"""Contacts › Downstream systems: who is told of every erasure. Compliance staff and superusers keep the
list; a secret is entered or generated here and never shown again (only its last four characters)."""

from django import forms
from django.contrib import admin, messages
from django.core.validators import URLValidator
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from contacts.admin.propagation import SETTLE_PERMISSION
from contacts.models import DownstreamKind, DownstreamSystem, ImpossibleReason
from contacts.services.downstream import (
    masked,
    new_secret,
    ping,
    remove_downstream_system,
    save_downstream_system,
    secret_problem,
)
from contacts.services.propagation import mark_undelivered_impossible, undelivered_notices


class DownstreamSystemForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"), required=False, max_length=500, assume_scheme="https",
        help_text=_("Where erasure messages are posted: https://, or http:// inside OUTBOUND_ALLOWED_NETWORKS."),
    )  # fmt: skip
    add_secret = forms.CharField(
        label=_("Add a secret"), required=False, strip=True, widget=forms.PasswordInput(render_value=False),
        help_text=_("A whsec_… secret the receiving team gave you (kept, never shown again)."),
    )  # fmt: skip
    generate_secret = forms.BooleanField(
        label=_("Generate a secret"), required=False,
        help_text=_("A new secret is added and shown once, after saving: give it to the receiving team."),
    )  # fmt: skip
    retire_secrets = forms.MultipleChoiceField(
        label=_("Retire secrets"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Once the receivers verify with the new secret (rotation): messages are no longer signed "
                    "with these."),
    )  # fmt: skip

    class Meta:
        model = DownstreamSystem
        fields = ["name", "kind", "url", "active", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["retire_secrets"].choices = [
            (str(index), masked(secret)) for index, secret in enumerate(self.instance.secrets or [])
        ]
        self.generated_secret = ""

    def clean_add_secret(self):
        secret = self.cleaned_data["add_secret"]
        if secret and (problem := secret_problem(secret)):
            raise forms.ValidationError(gettext("Not a usable secret: %(problem)s.") % {"problem": problem})
        return secret

    def clean(self):
        cleaned = super().clean()
        kind, url = cleaned.get("kind"), cleaned.get("url", "")
        retired = {int(index) for index in cleaned.get("retire_secrets", [])}
        secrets = [s for index, s in enumerate(self.instance.secrets or []) if index not in retired]
        if cleaned.get("add_secret"):
            secrets.append(cleaned["add_secret"])
        if cleaned.get("generate_secret"):
            self.generated_secret = new_secret()
            secrets.append(self.generated_secret)
        if kind == DownstreamKind.WEBHOOK:
            if not url:
                self.add_error("url", gettext("A webhook system needs the URL messages are posted to."))
            else:
                try:
                    URLValidator(schemes=["http", "https"])(url)
                except forms.ValidationError:
                    self.add_error("url", gettext("Use an http:// or https:// URL."))
            if not secrets:
                self.add_error("generate_secret", gettext("A webhook system needs at least one signing secret."))
        elif kind == DownstreamKind.MANUAL:
            if url:
                self.add_error("url", gettext("A manual system has no URL."))
            secrets = []
        self.instance.secrets = secrets
        return cleaned


@admin.register(DownstreamSystem)
class DownstreamSystemAdmin(admin.ModelAdmin):
    form = DownstreamSystemForm
    list_display = ["name", "kind", "url", "active", "secret_count", "created_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "note"]
    actions = ["send_ping", "mark_undelivered_impossible"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "url", "active", "note"]}),
        (_("Signing secrets"), {"fields": ["add_secret", "generate_secret", "retire_secrets"]}),
    ]

    @admin.display(description=_("Secrets"))
    def secret_count(self, obj):
        return len(obj.secrets)

    def save_model(self, request, obj, form, change):
        save_downstream_system(obj)
        if form.generated_secret:
            messages.warning(
                request,
                gettext("The new signing secret of %(name)s, shown this once: %(secret)s")
                % {"name": obj.name, "secret": form.generated_secret},
            )

    def delete_model(self, request, obj):
        remove_downstream_system(obj)

    def delete_queryset(self, request, queryset):
        for system in queryset:
            remove_downstream_system(system)

    @admin.action(description=_("Send a test message (ping)"), permissions=["change"])
    def send_ping(self, request, queryset):
        sent = [system for system in queryset.filter(kind=DownstreamKind.WEBHOOK, active=True)]
        for system in sent:
            ping(system)
        messages.success(
            request,
            ngettext(
                "A test message to %(count)d system is queued; webhook_worker delivers it.",
                "Test messages to %(count)d systems are queued; webhook_worker delivers them.",
                len(sent),
            )
            % {"count": len(sent)},
        )
        if len(sent) < queryset.count():
            messages.info(request, gettext("Manual and inactive systems get no test message."))

    @admin.action(description=_("Mark undelivered erasure notices impossible (deactivated systems)"),
                  permissions=["settle"])  # fmt: skip
    def mark_undelivered_impossible(self, request, queryset):
        systems = list(queryset.filter(kind=DownstreamKind.WEBHOOK, active=False))
        if len(systems) < queryset.count():
            messages.info(request, gettext("Only deactivated webhook systems' notices can be marked impossible."))
        if not systems:
            return None
        form = ImpossibleForm(request.POST if request.POST.get("post") else None)
        if form.is_valid():
            by, reason = request.user.get_username(), form.cleaned_data["reason"]
            marked = sum(mark_undelivered_impossible(system, by=by, reason=reason) for system in systems)
            messages.success(
                request,
                ngettext("%(count)d notice is marked impossible.", "%(count)d notices are marked impossible.", marked)
                % {"count": marked},
            )
            return None
        undelivered = undelivered_notices(systems)
        for system in systems:
            system.undelivered = undelivered.get(system.pk, 0)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Mark undelivered notices impossible"),
            "opts": self.opts,
            "systems": systems,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/contacts/downstreamsystem/mark_impossible.html", context)

    def has_settle_permission(self, request):
        return request.user.has_perm(SETTLE_PERMISSION)


class ImpossibleForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why impossible"), choices=ImpossibleReason.choices)
