from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import WebhookEvent
from .resources import IMPORTABLE

# The records of each CSV file, as a page names them (the files and their columns keep the
# identifiers of sync.resources).
RESOURCE_LABELS = {
    "accounts": _("Accounts"),
    "leads": _("Leads"),
    "campaigns": _("Campaigns"),
    "touches": _("Touches"),
    "opportunities": _("Opportunities"),
    "contracts": _("Contracts"),
    "stage_events": _("Stage events"),
}


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=500, label=_("Receiver URL"), assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=pgettext_lazy("webhook", "Events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )


class ImportForm(forms.Form):
    resource = forms.ChoiceField(
        label=_("Resource"),
        choices=[(name, RESOURCE_LABELS.get(name, name)) for name in IMPORTABLE],
        help_text=_("Import accounts before the leads that name them, leads before their touches."),
    )
    file = forms.FileField(label=_("CSV file (UTF-8, a header row of column names)"))
