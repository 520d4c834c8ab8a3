from django import forms

from .models import WebhookEvent
from .resources import IMPORTABLE


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=500, label="Receiver URL", assume_scheme="https")
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple)


class ImportForm(forms.Form):
    resource = forms.ChoiceField(
        choices=[(name, name.replace("_", " ").capitalize()) for name in IMPORTABLE],
        help_text="Import accounts before the leads that name them, leads before their touches.",
    )
    file = forms.FileField(label="CSV file (UTF-8, a header row of column names)")
