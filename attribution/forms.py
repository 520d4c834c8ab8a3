"""The campaign pages' forms: the list's filters and the create/edit form. Choices are the
active workspace's own (its channels, members and target lists); the values are identifiers
and ids, the labels translated."""

from django import forms
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import TargetList
from funnel.moments import validate_plan_date
from workspaces.listing import ListFilterForm
from workspaces.models import Membership, User

from .choices import CampaignStatus, CampaignType
from .models import Campaign, Channel
from .templatetags.attribution_labels import channel_name


class ChannelField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return channel_name(obj)


class MemberField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.email


def _members():
    return User.objects.filter(id__in=Membership.objects.values("user_id")).order_by("email")


class DateInput(forms.DateInput):
    """The browser's date picker; the value is written YYYY-MM-DD, as the picker wants it."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class CampaignForm(forms.ModelForm):
    channel = ChannelField(queryset=Channel.objects.none(), label=_("Channel"))
    owner = MemberField(queryset=User.objects.none(), required=False, label=_("Owner"), empty_label=_("No owner"))
    target_list = forms.ModelChoiceField(
        queryset=TargetList.objects.none(),
        required=False,
        label=_("Target list"),
        empty_label=_("None"),
        help_text=_("For an ABM campaign: the accounts it aims at."),
    )

    class Meta:
        model = Campaign
        fields = (
            "name",
            "channel",
            "type",
            "start_date",
            "end_date",
            "budget",
            "actual_cost",
            "owner",
            "target_list",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "external_id",
        )
        labels = {
            "name": _("Name"),
            "type": pgettext_lazy("campaign", "Type"),
            "start_date": _("Start date"),
            "end_date": _("End date"),
            "budget": _("Budget"),
            "actual_cost": _("Actual cost"),
            "utm_source": _("UTM source"),
            "utm_medium": _("UTM medium"),
            "utm_campaign": _("UTM campaign"),
            "external_id": _("External id"),
        }
        help_texts = {
            "end_date": _("Leave empty for an always-on campaign."),
            "actual_cost": _("What it has cost so far."),
            "external_id": _("Your other system's id for it, if it has one; imports match on it."),
        }
        widgets = {"start_date": DateInput(), "end_date": DateInput()}

    def __init__(self, *args, currency: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.order_by("name")
        self.fields["owner"].queryset = _members()
        self.fields["target_list"].queryset = TargetList.objects.order_by("name")
        for name in ("budget", "actual_cost"):
            self.fields[name].validators.append(MinValueValidator(0, _("An amount cannot be below zero.")))
            if currency:
                self.fields[name].label = f"{self.fields[name].label} ({currency})"
        for name in ("start_date", "end_date"):
            self.fields[name].validators = [validate_plan_date]

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date cannot be before the start date."))
        return data

    def _post_clean(self):
        # The model's own checks run in the services (campaign_create / campaign_update), which
        # report them on the field; the form does not save the instance.
        pass


class CampaignFilterForm(ListFilterForm):
    primary = ("channel", "type", "status")

    channel = ChannelField(queryset=Channel.objects.none(), label=_("Channel"), empty_label=_("All channels"))
    type = forms.ChoiceField(label=pgettext_lazy("campaign", "Type"))
    status = forms.ChoiceField(label=_("Status"))
    owner = MemberField(queryset=User.objects.none(), label=_("Owner"), empty_label=_("Anyone"))
    starts_from = forms.DateField(label=_("Starting from"), widget=DateInput())
    starts_to = forms.DateField(label=_("Starting until"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.order_by("name")
        self.fields["owner"].queryset = _members()
        self.fields["type"].choices = [("", _("All types")), *CampaignType.choices]
        self.fields["status"].choices = [("", _("Any status")), *CampaignStatus.choices]
