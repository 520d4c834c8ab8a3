"""The Audit log page: the workspace's trail, newest first, for its admins."""

import base64
import binascii
import datetime as dt
import json

from django.shortcuts import render
from django.utils import timezone

from .decorators import workspace_view
from .forms import AuditLogFilterForm
from .models import Membership, WorkspaceAPIKey
from .permissions import Action
from .selectors import audit_events_page

PAGE_SIZE = 50
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


def payload_lines(payload) -> list[tuple[str, str]]:
    """What changed, as (name, text) pairs for the page: a change as "before → after"."""
    if not isinstance(payload, dict):
        return [("", json.dumps(payload, ensure_ascii=False))]
    lines = []
    for name, value in payload.items():
        if name == "changes" and isinstance(value, dict):
            for field, pair in value.items():
                if isinstance(pair, list) and len(pair) == 2:
                    lines.append((field, f"{_shown(pair[0])} → {_shown(pair[1])}"))
                else:
                    lines.append((field, _shown(pair)))
        else:
            lines.append((name, _shown(value)))
    return lines


def _shown(value) -> str:
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
