import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workspaces.listing import ListFilterForm

from .normalize import normalize_email
from .selectors import live_leads


class LeadChoiceField(forms.CharField):
    """A lead named by its email or by its id (#123 or 123)."""

    def clean(self, value):
        text = super().clean(value).strip()
        digits = text.lstrip("#")
        if digits.isascii() and digits.isdigit():  # not '²', which int() refuses
            # beyond any row: no lookup (and int() refuses over 4,300 digits)
            too_large = len(digits.lstrip("0")) > 19 or int(digits) >= 2**63
            lead = None if too_large else live_leads().filter(pk=int(digits)).first()
        else:
            try:
                lead = live_leads().filter(email=normalize_email(text)).first()
            except forms.ValidationError:
                raise forms.ValidationError(
                    _("'%(text)s' is neither an email address nor a lead id.") % {"text": text}
                ) from None
        if lead is None:
            raise forms.ValidationError(_("No lead '%(text)s' in this workspace.") % {"text": text})
        return lead


class MergeForm(forms.Form):
    survivor = LeadChoiceField(label=gettext_lazy("Keep this lead"), help_text=gettext_lazy("its email or id"))
    loser = LeadChoiceField(
        label=gettext_lazy("Merge this one into it"),
        help_text=gettext_lazy("its email or id; it becomes a pointer to the first"),
    )

    def clean(self):
        data = super().clean()
        if data.get("survivor") and data.get("loser") and data["survivor"].pk == data["loser"].pk:
            raise forms.ValidationError(_("These are the same lead."))
        return data


# --- the lead list, the lead form and logging a touch ------------------------------------------


def _members(workspace) -> list[tuple[int, str]]:
    from workspaces.models import Membership

    return list(
        Membership.objects.filter(workspace=workspace).order_by("user__email").values_list("user_id", "user__email")
    )


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the current (the workspace's) time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class LeadFilterForm(ListFilterForm):
    """The lead list's filters, in the URL. ``values()`` gives ``leads.selectors.lead_list``
    its keys; the created range is of days in the workspace's time zone, both ends included."""

    primary = ("stage", "owner", "segment")
    NO_OWNER = "none"

    stage = forms.ChoiceField(label=gettext_lazy("Stage"))
    owner = forms.ChoiceField(label=gettext_lazy("Owner"))
    segment = forms.ChoiceField(label=gettext_lazy("Segment"))
    account = forms.CharField(
        label=gettext_lazy("Account (domain or id)"), max_length=255, widget=forms.TextInput(attrs={"type": "text"})
    )
    score_min = forms.IntegerField(label=gettext_lazy("Score from"), min_value=0, max_value=100)
    score_max = forms.IntegerField(label=gettext_lazy("Score to"), min_value=0, max_value=100)
    first_touch_campaign = forms.TypedChoiceField(label=gettext_lazy("First-touch campaign"), coerce=int)
    first_touch_channel = forms.TypedChoiceField(label=gettext_lazy("First-touch channel"), coerce=int)
    created_from = forms.DateField(label=gettext_lazy("Created from"), widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label=gettext_lazy("Created to"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data=None, *, workspace, **kwargs):
        from attribution.models import Campaign, Channel
        from attribution.templatetags.attribution_labels import channel_name
        from funnel.stages import Stage
        from workspaces.choices import Segment

        super().__init__(data, **kwargs)
        self.fields["stage"].choices = [("", _("Any stage")), *Stage.choices]
        self.fields["owner"].choices = [("", _("Anyone")), (self.NO_OWNER, _("No owner")), *_members(workspace)]
        self.fields["segment"].choices = [("", _("Any segment")), *Segment.choices]
        campaigns = Campaign.objects.filter(workspace=workspace).order_by("name", "id").values_list("id", "name")
        self.fields["first_touch_campaign"].choices = [("", _("Any campaign")), *campaigns]
        channels = sorted(Channel.objects.filter(workspace=workspace), key=lambda c: str(channel_name(c)))
        self.fields["first_touch_channel"].choices = [
            ("", _("Any channel")),
            *[(c.pk, channel_name(c)) for c in channels],
        ]

    def values(self) -> dict:
        values = super().values()
        owner = values.pop("owner", None)
        if owner == self.NO_OWNER:
            values["unowned"] = True
        elif owner:
            values["owner"] = int(owner)
        if "created_from" in values:
            values["created_from"] = _day_start(values["created_from"])
        if "created_to" in values:
            values["created_to"] = _day_start(values["created_to"] + dt.timedelta(days=1))
        if "account" in values:
            values["account"] = values["account"].strip().lower()
        return values


class LeadForm(forms.Form):
    """Create or change a lead in the browser; the view hands the values to ``lead_create`` or
    ``lead_update``, which check them as the API's writes are checked."""

    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=100, required=False)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, required=False)
    seniority = forms.ChoiceField(label=gettext_lazy("Seniority"), required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=50, required=False)
    account = forms.CharField(
        label=gettext_lazy("Account"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("the company's domain, e.g. example.com; empty for none"),
    )
    owner = forms.TypedChoiceField(label=gettext_lazy("Owner"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, workspace, **kwargs):
        from workspaces.choices import Seniority

        super().__init__(*args, **kwargs)
        self.fields["seniority"].choices = [("", "—"), *Seniority.choices]
        self.fields["owner"].choices = [("", _("No owner")), *_members(workspace)]

    def clean_account(self):
        from accounts.models import Account
        from accounts.normalize import normalize_domain

        text = self.cleaned_data["account"].strip()
        if not text:
            return None
        try:
            domain = normalize_domain(text)
        except (ValueError, forms.ValidationError):
            domain = text.lower()
        account = Account.objects.filter(domain=domain).first()
        if account is None:
            raise forms.ValidationError(
                _("No account with the domain %(domain)s in this workspace.") % {"domain": text}
            )
        return account

    def clean_owner(self):
        from workspaces.models import User

        owner = self.cleaned_data["owner"]
        return User.objects.get(pk=owner) if owner else None


class TouchForm(forms.Form):
    """Log a touch by hand: a type, a campaign or a channel (a campaign brings its channel), and
    the time, by default now in the workspace's time zone; from 1970 to five minutes ahead."""

    type = forms.ChoiceField(label=gettext_lazy("Type"))
    campaign = forms.TypedChoiceField(label=gettext_lazy("Campaign"), coerce=int, required=False, empty_value=None)
    channel = forms.TypedChoiceField(
        label=gettext_lazy("Channel"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=gettext_lazy("the campaign's channel when empty"),
    )
    occurred_at = forms.DateTimeField(
        label=gettext_lazy("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        help_text=gettext_lazy("in the workspace's time zone"),
    )

    def __init__(self, *args, workspace, **kwargs):
        from attribution.choices import TouchType
        from attribution.models import Campaign, Channel
        from attribution.templatetags.attribution_labels import channel_name

        super().__init__(*args, **kwargs)
        self.fields["type"].choices = TouchType.choices
        self.campaigns = {c.pk: c for c in Campaign.objects.filter(workspace=workspace).select_related("channel")}
        self.channels = {c.pk: c for c in Channel.objects.filter(workspace=workspace)}
        self.fields["campaign"].choices = [
            ("", _("No campaign")),
            *sorted(((c.pk, c.name) for c in self.campaigns.values()), key=lambda pair: pair[1]),
        ]
        self.fields["channel"].choices = [
            ("", "—"),
            *sorted(((c.pk, channel_name(c)) for c in self.channels.values()), key=lambda pair: str(pair[1])),
        ]
        if not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))

    def clean_occurred_at(self):
        from funnel.moments import CLOCK_SKEW, EARLIEST_EVENT

        moment = self.cleaned_data["occurred_at"]
        if moment < EARLIEST_EVENT:
            raise forms.ValidationError(_("A touch cannot be before 1970."))
        if moment > timezone.now() + CLOCK_SKEW:
            raise forms.ValidationError(_("This time is in the future: a touch is logged once it happened."))
        return moment

    def clean(self):
        data = super().clean()
        campaign = self.campaigns.get(data.get("campaign")) if data.get("campaign") else None
        channel = self.channels.get(data.get("channel")) if data.get("channel") else None
        if campaign is None and channel is None and not self.errors:
            raise forms.ValidationError(_("Choose a campaign or a channel."))
        data["campaign"] = campaign
        data["channel"] = channel or (campaign.channel if campaign else None)
        return data
