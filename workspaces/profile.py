"""The person's own page: their language and their password. Not under ``/w/<slug>/``: it is the
same in every workspace."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .services import user_language_set


def language_choices() -> list[tuple[str, str]]:
    # Each language by its own name, so a person who cannot read the page still finds theirs.
    return [("", _("The browser's language")), *settings.LANGUAGES]


class ProfileForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=language_choices,
        required=False,
        help_text=_("Every page is shown in it, on any computer you log in from."),
    )


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, initial={"language": request.user.language})
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        user_language_set(user=request.user, language=language)
        # this request began in the old language: say it in the new one
        translation.activate(language or translation.get_language_from_request(request))
        messages.success(request, gettext("Your profile is saved."))
        return redirect("profile")
    return render(request, "workspaces/profile.html", {"form": form})


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's own view and form (their messages come from Django's catalogs); back to the
    profile with a word that it worked."""

    template_name = "workspaces/password_change.html"
    success_url = reverse_lazy("profile")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, gettext("Your password is changed."))
        return response
