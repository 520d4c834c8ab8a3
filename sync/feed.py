"""The change feed behind every list endpoint: records in commit order, and tombstones.

A page holds up to ``page_size`` records after the cursor, ordered by ``(sync_version, id)``
(``sync.versioning``), and the resource's tombstones after the cursor's tombstone position. On
PostgreSQL both stop below the oldest transaction still running, so a transaction that commits
later can only appear after the cursor, never behind it. The cursor is opaque to clients: they
keep the last one they got and ask with it again later; a record comes again only when it was
written again.
"""

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from rest_framework.exceptions import ValidationError

from .interchange import output_rows, parse_datetime, to_interchange
from .models import Tombstone


@dataclass(frozen=True)
class Cursor:
    version: int = -1
    id: int = 0
    tomb_version: int = -1
    tomb_id: int = 0
    since: str | None = None

    def encode(self) -> str:
        data = [self.version, self.id, self.tomb_version, self.tomb_id, self.since]
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        try:
            raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            version, record_id, tomb_version, tomb_id, since = raw
            numbers = (version, record_id, tomb_version, tomb_id)
            if not all(isinstance(n, int) and not isinstance(n, bool) and -1 <= n < 2**63 for n in numbers):
                raise ValueError
            if since is not None:
                dt.datetime.fromisoformat(since)  # a str, and an instant
            return cls(version, record_id, tomb_version, tomb_id, since)
        # RecursionError: a cursor of JSON nested a thousand deep
        except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise ValidationError({"cursor": ["Not a cursor this API gave out; start again without one."]}) from None


def _after(table: str, version: int, record_id: int) -> RawSQL:
    quoted = connection.ops.quote_name(table)
    condition = f"({quoted}.sync_version, {quoted}.id) > (%s, %s)"
    if connection.vendor == "postgresql":
        # Only what every transaction below the oldest running one wrote: all of those ended.
        condition += f" AND {quoted}.sync_version < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    return RawSQL(condition, (version, record_id), output_field=BooleanField())  # noqa: S611 - values are bound


def _written_since(resource, since_field: str, since: dt.datetime) -> Q:
    condition = Q(**{f"{since_field}__gte": since})
    if resource.name == "stage_events":
        # Ledger rows are never rewritten except by a merge, which moves the loser's rows to the
        # survivor and keeps their recorded_at: the survivors of merges since then come too.
        from leads.models import LeadMerge

        condition |= Q(lead_id__in=LeadMerge.objects.filter(merged_at__gte=since).values("survivor_id"))
    return condition


def parse_since(value: str | None, tz) -> dt.datetime | None:
    if not value:
        return None
    try:
        return parse_datetime(value, tz)
    except ValueError as error:
        raise ValidationError({"updated_since": [str(error)]}) from None


def feed_page(
    *,
    resource,
    queryset,
    cursor: Cursor,
    page_size: int,
    since_field: str = "updated_at",
) -> tuple[list[dict], list[dict], Cursor, bool]:
    """(records, tombstones, the next cursor, whether more are waiting now)."""
    table = resource.model._meta.db_table
    since = dt.datetime.fromisoformat(cursor.since) if cursor.since else None
    records_qs = queryset
    if since is not None:
        records_qs = records_qs.filter(_written_since(resource, since_field, since))
    rows = list(
        records_qs.filter(_after(table, cursor.version, cursor.id))
        .order_by("sync_version", "id")
        .values_list(*resource.values, "sync_version")[: page_size + 1]
    )
    tombs_qs = Tombstone.objects.filter(resource=resource.name)
    if since is not None:
        tombs_qs = tombs_qs.filter(occurred_at__gte=since)
    tombs = list(
        tombs_qs.filter(_after(Tombstone._meta.db_table, cursor.tomb_version, cursor.tomb_id))
        .order_by("sync_version", "id")
        .values_list("id", "record_id", "external_id", "kind", "merged_into_id", "occurred_at", "sync_version")[
            : page_size + 1
        ]
    )
    more = len(rows) > page_size or len(tombs) > page_size
    rows, tombs = rows[:page_size], tombs[:page_size]
    version, record_id = (rows[-1][-1], rows[-1][0]) if rows else (cursor.version, cursor.id)
    tomb_version, tomb_id = (tombs[-1][-1], tombs[-1][0]) if tombs else (cursor.tomb_version, cursor.tomb_id)
    records = output_rows(resource.output_names(), (row[:-1] for row in rows))
    tombstones = [
        {
            "id": record,
            "external_id": external_id,
            "deleted": kind == Tombstone.Kind.DELETED,
            "merged_into": merged_into,
            "at": to_interchange(at),
        }
        for _, record, external_id, kind, merged_into, at, _ in tombs
    ]
    return records, tombstones, Cursor(version, record_id, tomb_version, tomb_id, cursor.since), more
