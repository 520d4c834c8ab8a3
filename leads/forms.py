from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
