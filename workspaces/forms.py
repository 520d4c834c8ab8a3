from django import forms

from .models import APIKeyScope, Role, Workspace


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
            "sla_hours": "Sales SLA (hours to accept or reject a handed-off lead)",
            "reassign_when_overdue": "Reassign a lead when its SLA is overdue",
            "mql_threshold": "MQL score threshold",
            "mqa_threshold": "MQA (account engagement) threshold",
            "attribution_lookback_days": "Attribution lookback (days)",
            "time_decay_half_life_days": "Time-decay half-life (days)",
            "recompute_interval_minutes": "Recompute interval (minutes)",
            "renewal_lead_days": "Renewal lead time (days)",
            "engagement_window_days": "Engagement window (days)",
        }

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()


class MemberAddForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices)
    full_name = forms.CharField(max_length=200, required=False)
    password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        help_text="For a new login only; a person who already has a login keeps their own password.",
    )


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class APIKeyForm(forms.Form):
    name = forms.CharField(max_length=50, help_text="Who uses it, for example 'Website forms' or 'Data warehouse'.")
    scope = forms.ChoiceField(
        choices=APIKeyScope.choices,
        initial=APIKeyScope.READ,
        help_text="Read only: lists, records and metrics. Read and write: also the bulk sync and every write.",
    )
