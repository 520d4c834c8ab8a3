"""The Audit log page: the workspace's trail, newest first, for its admins."""

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .decorators import workspace_view
from .forms import AuditLogFilterForm, WorkspaceSettingsForm
from .models import APIKeyScope, Membership, Role, WorkspaceAPIKey
from .permissions import Action
from .selectors import audit_events_page

PAGE_SIZE = 50
SETTINGS_LABELS = WorkspaceSettingsForm.Meta.labels
FILTERS = ("action", "actor", "object_type", "date_from", "date_to")


def encode_cursor(event) -> str:
    raw = json.dumps([event.created_at.isoformat(), event.pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[dt.datetime, int] | None:
    """The (created_at, id) a link to an older page carries; None for anything else (the page
    then starts from the newest, as a link that lost its cursor would)."""
    try:
        created_at, event_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        moment = dt.datetime.fromisoformat(created_at)
        if moment.tzinfo is None or not isinstance(event_id, int) or isinstance(event_id, bool):
            return None
        if not 0 < event_id < 2**63:
            return None
        return moment, event_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


# How the page names a payload's keys; a key not listed is shown as stored.
PAYLOAD_KEYS = {
    "email": _("Email"),
    "role": _("Role"),
    "name": pgettext_lazy("audit", "Name"),
    "scope": pgettext_lazy("audit", "Access"),
    "url": pgettext_lazy("audit", "URL"),
    "events": pgettext_lazy("webhook", "Events"),
    "resource": pgettext_lazy("audit", "Records"),
    "via": pgettext_lazy("audit", "Via"),
    "source": pgettext_lazy("audit", "Via"),
    "filters": pgettext_lazy("audit", "Filters"),
    "external_id": pgettext_lazy("audit", "External id"),
    "survivor": pgettext_lazy("audit", "Kept lead"),
    "loser": pgettext_lazy("audit", "Merged lead"),
    "moved": pgettext_lazy("audit", "Moved over"),
}
# Where an action was taken (an export's "via", a merge's "source": EventSource's values).
VIA_LABELS = {
    "browser": _("Browser"),
    "ui": _("Browser"),
    "api": _("API"),
    "import": _("Import"),
    "rule": _("Rule"),
    "command": pgettext_lazy("audit", "Command line"),
}
# Identifiers, shown as code: a CSV file's resource, webhook event names.
IDENTIFIERS = {"resource", "events", "filters"}


@dataclass(frozen=True)
class Line:
    """One line of an event's details: its label (translated), its text, and how the text is
    shown: "text" (said in the reader's language), "data" (as someone typed it: a key's name, an
    email, a URL) or "code" (an identifier)."""

    label: str
    text: str
    kind: str = "data"


def payload_lines(payload) -> list[Line]:
    """What an event's payload says, for the page: known keys by their translated name, known
    values by their label (a role, an API key's access, where it was done), a change as
    "before → after"; anything else as stored."""
    if not isinstance(payload, dict):
        return [Line("", json.dumps(payload, ensure_ascii=False))]
    lines = []
    for name, value in payload.items():
        if name == "changes" and isinstance(value, dict):
            for field, pair in value.items():
                label = str(SETTINGS_LABELS.get(field) or PAYLOAD_KEYS.get(field, field))
                if isinstance(pair, list) and len(pair) == 2:
                    before, after = (_value(field, v) for v in pair)
                    kind = "text" if "text" in (before.kind, after.kind) else before.kind
                    lines.append(Line(label, f"{before.text} → {after.text}", kind))
                else:
                    lines.append(Line(label, _shown(pair)))
        else:
            lines.append(_value(name, value, label=str(PAYLOAD_KEYS.get(name, name))))
    return lines


def _value(name: str, value, label: str = "") -> Line:
    if name == "role" and value in Role.values:
        return Line(label, str(Role(value).label), "text")
    if name == "scope" and value in APIKeyScope.values:
        return Line(label, str(APIKeyScope(value).label), "text")
    if name in ("via", "source") and value in VIA_LABELS:
        return Line(label, str(VIA_LABELS[value]), "text")
    if name in ("survivor", "loser") and isinstance(value, dict) and "id" in value:
        text = f"#{value['id']}" + (f" ({value['external_id']})" if value.get("external_id") else "")
        return Line(label, text)
    if name == "moved" and isinstance(value, dict):
        counts = {key: value.get(key, 0) for key in ("touches", "stage_events", "opportunities")}
        text = gettext("%(touches)s touches, %(stage_events)s stage events, %(opportunities)s opportunities") % counts
        return Line(label, text, "text")
    if name == "events" and isinstance(value, list):
        return Line(label, ", ".join(map(str, value)), "code")
    if isinstance(value, bool):
        return Line(label, gettext("yes") if value else gettext("no"), "text")
    return Line(label, _shown(value), "code" if name in IDENTIFIERS else "data")


def _shown(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@workspace_view(Action.VIEW_AUDIT_LOG)
def audit_log(request):
    """Who did what, newest first, filtered by what the URL says; 50 events a page, each next
    page found by a keyset (``cursor``: the last event shown), so the page stays fast on a big
    trail."""
    members = Membership.objects.select_related("user").order_by("user__email")
    keys = WorkspaceAPIKey.objects.order_by("name", "prefix")
    form = AuditLogFilterForm(request.GET or None, members=members, keys=keys)
    filters = form.cleaned_data if form.is_valid() else {}
    tz = timezone.get_current_timezone()

    def day_start(day):
        return dt.datetime.combine(day, dt.time.min, tzinfo=tz) if day else None

    cursor = decode_cursor(request.GET.get("cursor", ""))
    events, more = audit_events_page(
        action=filters.get("action", ""),
        actor=form.actor_filter() if filters else None,
        object_type=filters.get("object_type", ""),
        since=day_start(filters.get("date_from")),
        until=day_start(filters["date_to"] + dt.timedelta(days=1)) if filters.get("date_to") else None,
        before=cursor,
        limit=PAGE_SIZE,
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    filtered = any(request.GET.get(name) for name in FILTERS)
    context = {
        "form": form,
        "rows": [(event, payload_lines(event.payload)) for event in events],
        "older": f"?{_with(query, cursor=encode_cursor(events[-1]))}" if more else None,
        "newest": f"?{query.urlencode()}" if cursor is not None else None,
        "filtered": filtered,
    }
    return render(request, "workspaces/audit_log.html", context)


def _with(query, **params) -> str:
    query = query.copy()
    for name, value in params.items():
        query[name] = value
    return query.urlencode()
