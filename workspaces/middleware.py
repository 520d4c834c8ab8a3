from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import Resolver404, resolve
from django.utils import timezone, translation

from .scoping import scopes_disabled, workspace_scope
from .selectors import membership_of


class WorkspaceMiddleware:
    """Resolves the workspace of a ``/w/<workspace_slug>/`` URL once per request.

    The user must be a member: anyone else gets 404 (not 403), so the existence of another
    workspace or its rows is never revealed. The view then runs inside the workspace's scope and
    time zone. The Django admin runs unscoped; its ModelAdmins filter by the user's workspaces.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        slug = match.kwargs.get("workspace_slug")
        if slug is None:
            if match.namespace == "admin":
                with scopes_disabled():
                    return self.get_response(request)
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = membership_of(request.user, slug)
        if membership is None:
            raise Http404("No such workspace.")
        request.workspace = membership.workspace
        request.membership = membership
        with workspace_scope(membership.workspace), timezone.override(membership.workspace.timezone):
            return self.get_response(request)


class LanguageMiddleware:
    """Picks the language of a request, after Django's ``LocaleMiddleware`` has read the browser's.

    A logged-in person who chose a language on their profile (``User.language``) gets it on every
    page, whatever the browser says; the login page and anyone without a choice follow the
    browser's ``Accept-Language`` (English when it names nothing we have). The REST API answers
    in English always: its messages are read by programs, and a shared service message raised
    under the API is English there and translated on the page that shows it (docs/i18n.md)."""

    API_PREFIX = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(self.API_PREFIX):
            language = "en"
        else:
            language = getattr(request.user, "language", "") if request.user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
