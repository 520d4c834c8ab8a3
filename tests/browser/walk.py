"""Every page of the site, for browser tests that must hold on all of them (no CSP violation, a
translated page, ...). Pages are found from the URL resolver, so a new page is walked without
anyone adding it here; its URL arguments are filled from real rows of the workspace.

    seed_for_walk(workspace) -> Membership     # an admin, and a row for every argument a page names
    every_page(workspace) -> list[tuple[url_name, path]]   # the GET pages, arguments filled

A page whose URL names an argument this module cannot fill makes every_page raise (add a filler
to FILLERS). Left out, each for the reason given: the REST API's JSON endpoints and the schema
(the Swagger docs page is walked), the Django admin (for superusers, not workspace admins),
downloads, views that take only POST (they answer a GET 405), and the log-out.
"""

import datetime as dt
from collections.abc import Callable

from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from workspaces.scoping import scopes_disabled, workspace_scope

PASSWORD = "pw-for-tests-1"  # tests/factories.py's
ADMIN_EMAIL = "walk-admin@acme.test"

# (url name, why it is not walked)
SKIPPED = {
    "logout": "POST only, and it would end the walk's session",
    "api-schema": "JSON",
    "export": "a CSV download, not a page",
}
SKIPPED_PREFIXES = ("api/v1/",)  # the REST API: JSON
SKIPPED_SUFFIXES = ("-export",)  # CSV downloads of a list (leads-export, ...), not pages
SKIPPED_NAMESPACES = {"admin"}


def _admin(workspace):
    from workspaces.models import Membership

    with scopes_disabled():
        return (
            Membership.objects.select_related("user").filter(workspace=workspace, role="admin").order_by("id").first()
        )


def _membership_id(workspace) -> int:
    return _admin(workspace).pk


def _uidb64(workspace) -> str:
    return urlsafe_base64_encode(force_bytes(_admin(workspace).user.pk))


def _token(workspace) -> str:
    return default_token_generator.make_token(_admin(workspace).user)


def _first(model_path: str, field: str = "pk") -> Callable:
    def fill(workspace):
        from django.apps import apps

        model = apps.get_model(model_path)
        with workspace_scope(workspace):
            value = model.objects.order_by("pk").values_list(field, flat=True).first()
        if value is None:
            raise LookupError(f"no {model_path} in workspace {workspace.slug}: run seed_for_walk first")
        return value

    return fill


# A page's `pk` names a row of the model its URL name begins with (the longest match wins).
PK_MODELS = {
    "campaign": "attribution.Campaign",
    "lead": "leads.Lead",
    "scoring-job": "leads.RescoreJob",
}


def _pk_model(name: str) -> str:
    matches = [prefix for prefix in PK_MODELS if name == prefix or name.startswith(prefix + "-")]
    if not matches:
        raise LookupError(f"the page {name!r} takes a pk: name its model in tests/browser/walk.py PK_MODELS")
    return PK_MODELS[max(matches, key=len)]


# URL argument -> how to fill it from the workspace's rows (`pk`: by the page's name, PK_MODELS)
FILLERS: dict[str, Callable] = {
    "workspace_slug": lambda workspace: workspace.slug,
    "membership_id": _membership_id,
    "key_prefix": _first("workspaces.WorkspaceAPIKey", "prefix"),
    "webhook_id": _first("sync.Webhook"),
    "job_id": _first("sync.ImportJob"),
    "resource": lambda workspace: "leads",
    "uidb64": _uidb64,
    "token": _token,
}


def seed_for_walk(workspace):
    """An admin (email ADMIN_EMAIL, password PASSWORD) and, made through the services, one row of
    each kind a page's URL names: a lead journey (tests/api_helpers.py's seed_workspace, which
    has campaigns too), an API key, a webhook, an import job still running (so its page polls its
    progress bar) and a rescore after a change of the scoring rules."""
    from django.conf import settings

    from leads.scoring import rules_of
    from leads.scoring_services import scoring_rules_save
    from sync.models import ImportJob
    from sync.services import import_job_create, webhook_create
    from workspaces.services import api_key_create

    from ..api_helpers import seed_workspace
    from ..factories import MembershipFactory

    membership = MembershipFactory(workspace=workspace, role="admin", email=ADMIN_EMAIL)
    seed_workspace(workspace)
    allow = settings.WEBHOOK_ALLOW_PRIVATE_HOSTS
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    try:
        with workspace_scope(workspace):
            api_key_create(workspace=workspace, name="Walk", scope="read")
            webhook_create(workspace=workspace, url="http://127.0.0.1:9/hook", events=["lead.accepted"])
            job = import_job_create(
                workspace=workspace, resource="leads", filename="walk.csv", content=b"external_id,email\nW-1,w@x.test\n"
            )
            threshold = workspace.mql_threshold + 1
            scoring_rules_save(workspace=workspace, rules=rules_of(workspace), mql_threshold=threshold)
    finally:
        settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = allow
    with scopes_disabled():
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.RUNNING, rows_done=0, started_at=job.created_at + dt.timedelta(seconds=1)
        )
    return membership


def _arguments(pattern) -> set[str]:
    return set(getattr(pattern, "converters", {})) | set(pattern.regex.groupindex)


def _patterns(patterns, prefix: str = "", namespace: str | None = None, arguments: frozenset = frozenset()):
    for entry in patterns:
        found = arguments | _arguments(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace, found)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace, entry.name, prefix + str(entry.pattern), found


def _candidates() -> list[tuple[str, set[str]]]:
    seen: dict[str, set[str]] = {}
    for namespace, name, route, arguments in _patterns(get_resolver().url_patterns):
        if (
            namespace in SKIPPED_NAMESPACES
            or name in SKIPPED
            or name.endswith(SKIPPED_SUFFIXES)
            or route.startswith(SKIPPED_PREFIXES)
        ):
            continue
        if "format" in arguments:  # DRF's format-suffix twins
            continue
        seen.setdefault(name, set(arguments))
    return sorted(seen.items())


def every_page(workspace) -> list[tuple[str, str]]:
    """(url name, path) of every page an admin of the workspace can GET, arguments filled from
    its rows; views that refuse a GET (405: POST only) are left out."""
    client = Client()
    client.force_login(_admin(workspace).user)
    pages = []
    for name, arguments in _candidates():
        missing = sorted(arguments - FILLERS.keys() - {"pk"})
        if missing:
            raise LookupError(f"the page {name!r} names {missing}: add a filler to tests/browser/walk.py FILLERS")
        kwargs = {argument: FILLERS[argument](workspace) for argument in arguments - {"pk"}}
        if "pk" in arguments:
            kwargs["pk"] = _first(_pk_model(name))(workspace)
        path = reverse(name, kwargs=kwargs)
        if client.get(path).status_code == 405:
            continue
        pages.append((name, path))
    return pages
