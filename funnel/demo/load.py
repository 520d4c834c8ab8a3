"""Load a ``DemoShape`` into a workspace with the ORM, and clear a workspace's domain rows.

This is an import of history: rows (including ``StageEvent`` rows with ``source="import"``)
are written directly in bulk rather than by calling ``lead_stage_move`` once per event. That
is intentional: the generator already obeys the transition table (``tests/test_demo_shape.py``
replays every lead's ledger through ``LEAD_TRANSITIONS``), and a per-event service call would
take minutes for a demo and days for the benchmark.
"""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max

from accounts.models import Account, TargetList, TargetListMember
from attribution.models import Campaign, Channel, Touch
from leads.models import Lead
from workspaces.models import Membership, Workspace
from workspaces.scoping import WorkspaceOwned, workspace_scope

from ..models import Contract, Opportunity, StageEvent
from .shape import CHANNELS, STAGES, TOUCH_TYPES, DemoShape

BATCH = 5000
# Rows that count as "data" (a workspace with none of these is empty).
DATA_MODELS = (Account, Lead, Campaign, Touch, Opportunity, Contract, StageEvent, TargetList)
# Rows a reset keeps: who may log in, and the workspace's channels.
KEPT_MODELS = (Membership, Channel)

Progress = Callable[[str, int], None]


def workspace_has_data(workspace: Workspace) -> bool:
    with workspace_scope(workspace):
        return any(model.objects.exists() for model in DATA_MODELS)


def _workspace_models() -> list[type[models.Model]]:
    """The workspace-owned models, referrers before the rows they point to."""
    owned = [m for m in apps.get_models() if issubclass(m, WorkspaceOwned) and m not in KEPT_MODELS]
    ordered: list[type[models.Model]] = []
    remaining = set(owned)

    def referrers(target):
        return {
            m
            for m in remaining
            if m is not target
            and any(f.is_relation and f.many_to_one and f.related_model is target for f in m._meta.get_fields())
        }

    while remaining:
        ready = sorted((m for m in remaining if not referrers(m)), key=lambda m: m._meta.label)
        if not ready:  # a cycle between tables: delete the rest in one pass of the transaction
            ready = sorted(remaining, key=lambda m: m._meta.label)
        ordered += ready
        remaining -= set(ready)
    return ordered


@transaction.atomic
def workspace_data_delete(*, workspace: Workspace) -> dict[str, int]:
    """Delete every domain row of a workspace (not its members or channels), one set-based
    ``DELETE`` per table in foreign-key order rather than the ORM collector over every row."""
    deleted = {}
    with connection.cursor() as cursor:
        for model in _workspace_models():
            table = connection.ops.quote_name(model._meta.db_table)
            for field in model._meta.concrete_fields:
                # A table that points at itself (a contract renews a contract) is emptied of
                # those links first, so the order of rows inside the DELETE never matters.
                if field.is_relation and field.related_model is model and field.null:
                    column = connection.ops.quote_name(field.column)
                    cursor.execute(f"UPDATE {table} SET {column} = NULL WHERE workspace_id = %s", [workspace.pk])  # noqa: S608
            cursor.execute(f"DELETE FROM {table} WHERE workspace_id = %s", [workspace.pk])  # noqa: S608
            deleted[model._meta.label] = cursor.rowcount
    return deleted


def seconds_to_datetimes(seconds: np.ndarray) -> list[dt.datetime | None]:
    """Aware UTC datetimes; negative seconds (the frames' "none") become None."""
    seconds = np.asarray(seconds, dtype=np.int64)
    values = pd.to_datetime(seconds, unit="s", utc=True).to_pydatetime().tolist()
    return (
        [None if s < 0 else v for s, v in zip(seconds.tolist(), values, strict=True)] if (seconds < 0).any() else values
    )


def days_to_dates(days: np.ndarray) -> list[dt.date]:
    return np.asarray(days, dtype="datetime64[D]").astype(object).tolist()


def _money(values) -> list[Decimal]:
    return [Decimal(f"{v:.2f}") for v in np.asarray(values, dtype=float).tolist()]


def _next_id(model) -> int:
    return (model.objects.with_scopes_disabled().aggregate(top=Max("id"))["top"] or 0) + 1


def _bulk(model, rows: list[dict], progress: Progress | None, label: str) -> None:
    objects = [model(**row) for row in rows]
    for begin in range(0, len(objects), BATCH):
        model.objects.bulk_create(objects[begin : begin + BATCH], batch_size=BATCH)
    if progress:
        progress(label, len(objects))


def _columns(**columns) -> list[dict]:
    names = list(columns)
    values = [c.tolist() if isinstance(c, np.ndarray) else list(c) for c in columns.values()]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


@transaction.atomic
def demo_load(
    *, workspace: Workspace, shape: DemoShape, reps: list, marketer, progress: Progress | None = None
) -> dict[str, int]:
    """Write ``shape`` into ``workspace`` in one transaction. Ids continue past the current
    largest id of each table (other workspaces share the tables); on PostgreSQL the identity
    sequences are moved past them afterwards."""
    if len(shape.leads) == 0:
        return shape.table_sizes()
    now = dt.datetime.now(dt.UTC)
    ws = workspace.pk
    with workspace_scope(workspace):
        channel_ids = dict(Channel.objects.values_list("slug", "id"))
        channel = np.array([channel_ids[slug] for slug in CHANNELS], dtype=np.int64)
        owner = np.array([rep.pk for rep in reps], dtype=np.int64)
        base = {m: _next_id(m) for m in (Account, TargetList, Campaign, Lead, Touch, Opportunity, Contract, StageEvent)}

        a = shape.accounts
        account_id = base[Account] + np.arange(len(a), dtype=np.int64)
        _bulk(
            Account,
            _columns(
                id=account_id,
                workspace_id=np.full(len(a), ws),
                name=a["name"],
                domain=a["domain"],
                industry=a["industry"],
                employee_count=a["employee_count"].to_numpy(),
                country=a["country"],
                segment=a["segment"],
                owner_id=owner[a["owner"].to_numpy()],
                external_id=a["external_id"],
                created_at=seconds_to_datetimes(a["created_at"].to_numpy()),
                updated_at=[now] * len(a),
            ),
            progress,
            "accounts",
        )
        target_list = TargetList.objects.create(id=base[TargetList], workspace=workspace, **shape.target_list)
        m = shape.target_members
        _bulk(
            TargetListMember,
            _columns(
                workspace_id=np.full(len(m), ws),
                target_list_id=np.full(len(m), target_list.pk),
                account_id=account_id[m["account"].to_numpy()],
                tier=m["tier"].to_numpy(),
                added_at=seconds_to_datetimes(m["added_at"].to_numpy()),
            ),
            progress,
            "target list members",
        )
        c = shape.campaigns
        campaign_id = base[Campaign] + np.arange(len(c), dtype=np.int64)
        _bulk(
            Campaign,
            _columns(
                id=campaign_id,
                workspace_id=np.full(len(c), ws),
                name=c["name"],
                channel_id=channel[c["channel"].to_numpy()],
                type=c["type"],
                start_date=days_to_dates(c["start_date"].to_numpy()),
                end_date=days_to_dates(c["end_date"].to_numpy()),
                budget=_money(c["budget"]),
                actual_cost=_money(c["actual_cost"]),
                utm_source=c["utm_source"],
                utm_medium=c["utm_medium"],
                utm_campaign=c["utm_campaign"],
                owner_id=[marketer.pk] * len(c),
                target_list_id=np.where(c["is_abm"].to_numpy(), target_list.pk, None),
                external_id=c["external_id"],
                created_at=seconds_to_datetimes(c["begin"].to_numpy() - 14 * 86_400),
                updated_at=[now] * len(c),
            ),
            progress,
            "campaigns",
        )
        p = shape.leads
        lead_id = base[Lead] + np.arange(len(p), dtype=np.int64)
        first_at, first_campaign, first_channel = shape.first_touches()
        _bulk(
            Lead,
            _columns(
                id=lead_id,
                workspace_id=np.full(len(p), ws),
                email=p["email"],
                first_name=p["first_name"],
                last_name=p["last_name"],
                title=p["title"],
                seniority=p["seniority"],
                department=p["department"],
                account_id=account_id[p["account"].to_numpy()],
                owner_id=owner[p["owner"].to_numpy()],
                stage=np.array(STAGES, dtype=object)[p["stage"].to_numpy()],
                stage_entered_at=seconds_to_datetimes(p["stage_entered_at"].to_numpy()),
                score=p["score"].to_numpy(),
                captured_at=seconds_to_datetimes(shape.captured_at()),
                external_id=p["external_id"],
                created_at=seconds_to_datetimes(p["created_at"].to_numpy()),
                updated_at=[now] * len(p),
                first_touch_at=seconds_to_datetimes(first_at),
                first_touch_campaign_id=[int(campaign_id[x]) if x >= 0 else None for x in first_campaign.tolist()],
                first_touch_channel_id=[int(channel[x]) if x >= 0 else None for x in first_channel.tolist()],
            ),
            progress,
            "leads",
        )
        o = shape.opportunities
        opportunity_id = base[Opportunity] + np.arange(len(o), dtype=np.int64)
        _bulk(
            Opportunity,
            _columns(
                id=opportunity_id,
                workspace_id=np.full(len(o), ws),
                account_id=account_id[o["account"].to_numpy()],
                primary_lead_id=lead_id[o["lead"].to_numpy()],
                name=o["name"],
                amount=_money(o["amount"]),
                kind=o["kind"],
                stage=o["stage"],
                created_at=seconds_to_datetimes(o["created_at"].to_numpy()),
                expected_close_date=days_to_dates(o["expected_close_date"].to_numpy()),
                closed_at=seconds_to_datetimes(o["closed_at"].to_numpy()),
                lost_reason=o["lost_reason"],
                owner_id=owner[o["owner"].to_numpy()],
                external_id=[f"opp-{i:07d}" for i in range(1, len(o) + 1)],
                updated_at=[now] * len(o),
            ),
            progress,
            "opportunities",
        )
        k = shape.contracts
        contract_id = base[Contract] + np.arange(len(k), dtype=np.int64)
        renews = k["renews"].to_numpy()
        _bulk(
            Contract,
            _columns(
                id=contract_id,
                workspace_id=np.full(len(k), ws),
                account_id=account_id[k["account"].to_numpy()],
                opportunity_id=opportunity_id[k["opportunity"].to_numpy()],
                start_date=days_to_dates(k["start_date"].to_numpy()),
                end_date=days_to_dates(k["end_date"].to_numpy()),
                annual_value=_money(k["annual_value"]),
                status=k["status"],
                renews_id=[int(contract_id[r]) if r >= 0 else None for r in renews.tolist()],
                external_id=[f"ctr-{i:07d}" for i in range(1, len(k) + 1)],
                created_at=seconds_to_datetimes(k["start_date"].to_numpy().astype("datetime64[s]").astype(np.int64)),
                updated_at=[now] * len(k),
            ),
            progress,
            "contracts",
        )
        t = shape.touches
        campaign = t["campaign"].to_numpy()
        _bulk(
            Touch,
            _columns(
                id=base[Touch] + np.arange(len(t), dtype=np.int64),
                workspace_id=np.full(len(t), ws),
                lead_id=lead_id[t["lead"].to_numpy()],
                account_id=account_id[t["account"].to_numpy()],
                campaign_id=[int(campaign_id[x]) if x >= 0 else None for x in campaign.tolist()],
                channel_id=channel[t["channel"].to_numpy()],
                type=np.array(TOUCH_TYPES, dtype=object)[t["type"].to_numpy()],
                occurred_at=seconds_to_datetimes(t["occurred_at"].to_numpy()),
                created_at=seconds_to_datetimes(t["occurred_at"].to_numpy()),
            ),
            progress,
            "touches",
        )
        e = shape.events
        opportunity = e["opportunity"].to_numpy()
        previous = e["from_stage"].to_numpy()
        stage_names = np.array(STAGES, dtype=object)
        _bulk(
            StageEvent,
            _columns(
                id=base[StageEvent] + np.arange(len(e), dtype=np.int64),
                workspace_id=np.full(len(e), ws),
                lead_id=lead_id[e["lead"].to_numpy()],
                account_id=account_id[e["account"].to_numpy()],
                opportunity_id=[int(opportunity_id[x]) if x >= 0 else None for x in opportunity.tolist()],
                stage=stage_names[e["stage"].to_numpy()],
                from_stage=np.where(previous >= 0, stage_names[np.maximum(previous, 0)], ""),
                entered_at=seconds_to_datetimes(e["entered_at"].to_numpy()),
                source=["import"] * len(e),
                reason=e["reason"],
                note=e["note"],
                recorded_at=[now] * len(e),
            ),
            progress,
            "stage events",
        )
    if connection.vendor == "postgresql":
        reset = (Account, TargetList, TargetListMember, Campaign, Lead, Touch, Opportunity, Contract, StageEvent)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), list(reset)):
                cursor.execute(statement)
    return shape.table_sizes()
