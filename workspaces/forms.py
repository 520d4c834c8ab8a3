from django import forms
from django.utils.translation import gettext_lazy as _

from .models import APIKeyScope, AuditAction, AuditObjectType, Role, Workspace


class WorkspaceSettingsForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = [
            "name",
            "currency",
            "timezone",
            "sla_hours",
            "reassign_when_overdue",
            "mql_threshold",
            "mqa_threshold",
            "attribution_lookback_days",
            "time_decay_half_life_days",
            "recompute_interval_minutes",
            "renewal_lead_days",
            "engagement_window_days",
        ]
        labels = {
            "name": _("Name"),
            "currency": _("Currency"),
            "timezone": _("Time zone"),
            "sla_hours": _("Sales SLA (hours to accept or reject a handed-off lead)"),
            "reassign_when_overdue": _("Reassign a lead when its SLA is overdue"),
            "mql_threshold": _("MQL score threshold"),
            "mqa_threshold": _("MQA (account engagement) threshold"),
            "attribution_lookback_days": _("Attribution lookback (days)"),
            "time_decay_half_life_days": _("Time-decay half-life (days)"),
            "recompute_interval_minutes": _("Recompute interval (minutes)"),
            "renewal_lead_days": _("Renewal lead time (days)"),
            "engagement_window_days": _("Engagement window (days)"),
        }
        help_texts = {"attribution_lookback_days": _("0 means no limit.")}

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()


class MemberAddForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput,
        required=False,
        help_text=_(
            "Best left empty: a new login is then emailed a link to set its own password (valid for "
            "72 hours). A person who already has a login keeps their own password."
        ),
    )


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class APIKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=50, help_text=_("Who uses it, for example 'Website forms' or 'Data warehouse'.")
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=APIKeyScope.choices,
        initial=APIKeyScope.READ,
        help_text=_("Read only: lists, records and metrics. Read and write: also the bulk sync and every write."),
    )


class AuditLogFilterForm(forms.Form):
    """The Audit log page's filters, read from the URL (a filtered view can be bookmarked and
    sent). Dates are whole days in the workspace's time zone, both ends included."""

    action = forms.ChoiceField(label=_("What"), required=False)
    actor = forms.ChoiceField(label=_("Who"), required=False)
    object_type = forms.ChoiceField(label=_("Object"), required=False)
    # ISO in the URL and in the browser's date picker, whatever the page's language
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, data, *, members, keys):
        super().__init__(data)
        anything = [("", _("Any"))]
        self.fields["action"].choices = anything + list(AuditAction.choices)
        self.fields["object_type"].choices = anything + list(AuditObjectType.choices)
        self.fields["actor"].choices = [
            *anything,
            (_("Members"), [(f"user:{m.user_id}", m.user.email) for m in members]),
            (_("API keys"), [(f"api_key:{k.prefix}", f"{k.name} ({k.prefix})") for k in keys]),
            ("system", _("System (commands and scheduled tasks)")),
        ]
        for name, field in self.fields.items():
            css = "form-control form-control-sm" if name.startswith("date_") else "form-select form-select-sm"
            if self.is_bound and name in self.errors:
                css += " is-invalid"
            field.widget.attrs["class"] = css

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The last day comes before the first."))
        return cleaned

    def actor_filter(self) -> tuple[str, str] | None:
        value = self.cleaned_data.get("actor") or ""
        if not value:
            return None
        kind, _sep, ident = value.partition(":")
        return kind, ident
