"""Load a ``DemoShape`` into PostgreSQL with COPY: the benchmark's loader.

Like ``funnel.demo.load``, this is an import of history: it writes rows (stage events with
``source="import"``) directly instead of calling ``lead_stage_move`` once per event. That is
intentional: the generator obeys the transition table (``tests/test_demo_shape.py`` replays
every ledger), and ten million service calls would take hours.

The big tables (touches, stage events, leads) are loaded without their secondary indexes: the
definitions are read from ``pg_indexes`` first, dropped, and recreated from those very
definitions after the load, so the result is exactly what the migrations define. The load runs
with ``session_replication_role = replica``, which skips the foreign-key triggers for the rows
of this one transaction (the frames' ids are consistent by construction); the constraints
themselves stay in place for every later write. Touches and stage events go in as binary COPY
built with NumPy (rows grouped by their variable-width text, so each group is one fixed-width
record array); the other tables as CSV.
"""

import datetime as dt
import io
import threading
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from django.db import connection, connections, transaction

from accounts.models import Account, TargetList, TargetListMember
from attribution.models import Campaign, Channel, Touch
from leads.models import Lead
from workspaces.scoping import workspace_scope

from ..models import Contract, Opportunity, StageEvent
from .shape import CHANNELS, STAGES, TOUCH_TYPES, DemoShape

EPOCH_2000 = 946_684_800  # PostgreSQL's binary times count from 2000-01-01 UTC
BIG_MODELS = (Touch, StageEvent, Lead)
CHUNK = 2_000_000

Report = Callable[[str, int, float], None]


class Column:
    """One column of a binary COPY: ``kind`` is int8, int4, int2, ts (seconds since the Unix
    epoch) or text (``values`` are codes into ``categories``). ``null`` marks NULLs."""

    def __init__(self, name, kind, values, categories=None, null=None):
        self.name, self.kind, self.values, self.null = name, kind, np.asarray(values), null
        self.categories = [c.encode() for c in categories] if categories is not None else None


_WIDTH = {"int8": ">i8", "int4": ">i4", "int2": ">i2", "ts": ">i8"}


def binary_copy(cursor, table: str, columns: list[Column], rows: int) -> None:
    for begin in range(0, rows, CHUNK):
        end = min(rows, begin + CHUNK)
        buffer = io.BytesIO()
        buffer.write(b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big"))
        key = np.zeros(end - begin, np.int64)
        for c in columns:
            if c.kind == "text":
                key = key * len(c.categories) + c.values[begin:end]
            elif c.null is not None:
                key = key * 2 + c.null[begin:end]
        order = np.argsort(key, kind="stable")
        bounds = np.flatnonzero(np.diff(key[order])) + 1
        for group in np.split(order, bounds):
            group = group + begin
            first = group[0]
            fields, fill = [("count", ">i2")], {"count": len(columns)}
            for c in columns:
                length = f"{c.name}__len"
                fields.append((length, ">i4"))
                if c.kind == "text":
                    text = c.categories[c.values[first]]
                    fill[length] = len(text)
                    if text:
                        fields.append((c.name, f"S{len(text)}"))
                        fill[c.name] = text
                elif c.null is not None and c.null[first]:
                    fill[length] = -1
                else:
                    width = _WIDTH[c.kind]
                    fields.append((c.name, width))
                    fill[length] = int(width[-1])
                    values = c.values[group]
                    fill[c.name] = (values - EPOCH_2000) * 1_000_000 if c.kind == "ts" else values
            record = np.empty(len(group), dtype=np.dtype(fields))
            for name, value in fill.items():
                record[name] = value
            buffer.write(record.tobytes())
        buffer.write(b"\xff\xff")
        buffer.seek(0)
        names = ", ".join(c.name for c in columns)
        cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT binary)", buffer)


def _times(seconds) -> pd.Series:
    seconds = np.asarray(seconds, dtype=np.int64)
    values = pd.Series(pd.to_datetime(seconds, unit="s", utc=True))
    return values.where(seconds >= 0, None)


def csv_copy(cursor, table: str, frame: pd.DataFrame, text_columns: list[str]) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S+00")
    buffer.seek(0)
    names = ", ".join(frame.columns)
    force = f", FORCE_NOT_NULL ({', '.join(text_columns)})" if text_columns else ""
    cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv{force})", buffer)


def _next_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
    return cursor.fetchone()[0]


def secondary_indexes(cursor, models) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of every index of these tables that no constraint owns."""
    tables = [m._meta.db_table for m in models]
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass) "
        "ORDER BY i.tablename, i.indexname",
        [tables],
    )
    return cursor.fetchall()


def create_indexes(definitions: list[tuple[str, str]], workers: int = 2) -> None:
    """Build the indexes from their saved definitions, ``workers`` at a time (one connection
    each), largest tables first."""
    pending = list(definitions)
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '512MB'")
                while True:
                    with lock:
                        if not pending:
                            return
                        _, statement = pending.pop(0)
                    cursor.execute(statement)
        except BaseException as error:  # reported in the main thread
            failures.append(error)
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def pg_load(*, workspace, shape: DemoShape, reps: list, marketer, report: Report) -> dict[str, float]:
    """COPY ``shape`` into ``workspace``; returns the seconds of each phase."""
    timings: dict[str, float] = {}
    now = int(time.time())
    ws = workspace.pk
    with workspace_scope(workspace):
        channel_ids = dict(Channel.objects.values_list("slug", "id"))
    channel = np.array([channel_ids[slug] for slug in CHANNELS], dtype=np.int64)
    owner = np.array([rep.pk for rep in reps], dtype=np.int64)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        definitions = secondary_indexes(cursor, BIG_MODELS)
        cursor.execute("SET LOCAL session_replication_role = replica")
        for name, _ in definitions:
            cursor.execute(f'DROP INDEX "{name}"')
        base = {m: _next_id(cursor, m._meta.db_table) for m in (Account, TargetList, Campaign, Lead, Touch)}
        base |= {m: _next_id(cursor, m._meta.db_table) for m in (Opportunity, Contract, StageEvent)}

        def timed(label, rows, load):
            begin = time.perf_counter()
            load()
            report(label, rows, time.perf_counter() - begin)

        a = shape.accounts
        account_id = base[Account] + np.arange(len(a), dtype=np.int64)
        account_frame = pd.DataFrame(
            {
                "id": account_id,
                "workspace_id": ws,
                "name": a["name"],
                "domain": a["domain"],
                "industry": a["industry"],
                "employee_count": a["employee_count"],
                "country": a["country"],
                "segment": a["segment"],
                "owner_id": owner[a["owner"].to_numpy()],
                "external_id": a["external_id"],
                "created_at": _times(a["created_at"]),
                "updated_at": _times(np.full(len(a), now)),
            }
        )
        text = ["name", "domain", "industry", "country", "segment", "external_id"]
        timed("accounts", len(a), lambda: csv_copy(cursor, "accounts_account", account_frame, text))
        target_list_id = base[TargetList]
        cursor.execute(
            "INSERT INTO accounts_targetlist (id, workspace_id, name, description, created_at) "
            "VALUES (%s, %s, %s, %s, %s)",
            [target_list_id, ws, shape.target_list["name"], shape.target_list["description"], dt.datetime.now(dt.UTC)],
        )
        m = shape.target_members
        member_frame = pd.DataFrame(
            {
                "workspace_id": ws,
                "target_list_id": target_list_id,
                "account_id": account_id[m["account"].to_numpy()],
                "tier": m["tier"],
                "added_at": _times(m["added_at"]),
            }
        )
        timed("target list members", len(m), lambda: csv_copy(cursor, "accounts_targetlistmember", member_frame, []))
        c = shape.campaigns
        campaign_id = base[Campaign] + np.arange(len(c), dtype=np.int64)
        campaign_frame = pd.DataFrame(
            {
                "id": campaign_id,
                "workspace_id": ws,
                "name": c["name"],
                "channel_id": channel[c["channel"].to_numpy()],
                "type": c["type"],
                "start_date": pd.Series(c["start_date"]).dt.strftime("%Y-%m-%d"),
                "end_date": pd.Series(c["end_date"]).dt.strftime("%Y-%m-%d"),
                "budget": c["budget"].round(2),
                "actual_cost": c["actual_cost"].round(2),
                "utm_source": c["utm_source"],
                "utm_medium": c["utm_medium"],
                "utm_campaign": c["utm_campaign"],
                "owner_id": marketer.pk,
                "target_list_id": np.where(c["is_abm"].to_numpy(), target_list_id, None),
                "external_id": c["external_id"],
                "created_at": _times(c["begin"].to_numpy() - 14 * 86_400),
                "updated_at": _times(np.full(len(c), now)),
            }
        )
        text = ["name", "type", "utm_source", "utm_medium", "utm_campaign", "external_id"]
        timed("campaigns", len(c), lambda: csv_copy(cursor, "attribution_campaign", campaign_frame, text))
        p = shape.leads
        lead_id = base[Lead] + np.arange(len(p), dtype=np.int64)
        first_at, first_campaign, first_channel = shape.first_touches()
        lead_frame = pd.DataFrame(
            {
                "id": lead_id,
                "workspace_id": ws,
                "email": p["email"],
                "first_name": p["first_name"],
                "last_name": p["last_name"],
                "title": p["title"],
                "seniority": p["seniority"],
                "department": p["department"],
                "phone": "",
                "account_id": account_id[p["account"].to_numpy()],
                "owner_id": owner[p["owner"].to_numpy()],
                "stage": np.array(STAGES, dtype=object)[p["stage"].to_numpy()],
                "stage_entered_at": _times(p["stage_entered_at"]),
                "score": p["score"],
                "captured_at": _times(shape.captured_at()),
                "external_id": p["external_id"],
                "created_at": _times(p["created_at"]),
                "updated_at": _times(np.full(len(p), now)),
                "first_touch_at": _times(first_at),
                "first_touch_campaign_id": pd.Series(campaign_id[np.maximum(first_campaign, 0)], dtype="Int64").mask(
                    first_campaign < 0
                ),
                "first_touch_channel_id": pd.Series(channel[np.maximum(first_channel, 0)], dtype="Int64").mask(
                    first_channel < 0
                ),
            }
        )
        text = ["email", "first_name", "last_name", "title", "seniority", "department", "phone", "stage"]
        timed("leads", len(p), lambda: csv_copy(cursor, "leads_lead", lead_frame, [*text, "external_id"]))
        o = shape.opportunities
        opportunity_id = base[Opportunity] + np.arange(len(o), dtype=np.int64)
        opportunity_frame = pd.DataFrame(
            {
                "id": opportunity_id,
                "workspace_id": ws,
                "account_id": account_id[o["account"].to_numpy()],
                "primary_lead_id": lead_id[o["lead"].to_numpy()],
                "name": o["name"],
                "amount": o["amount"].round(2),
                "kind": o["kind"],
                "stage": o["stage"],
                "created_at": _times(o["created_at"]),
                "expected_close_date": pd.Series(o["expected_close_date"]).dt.strftime("%Y-%m-%d"),
                "closed_at": _times(o["closed_at"]),
                "lost_reason": o["lost_reason"],
                "owner_id": owner[o["owner"].to_numpy()],
                "external_id": [f"opp-{i:07d}" for i in range(1, len(o) + 1)],
                "updated_at": _times(np.full(len(o), now)),
            }
        )
        text = ["name", "kind", "stage", "lost_reason", "external_id"]
        timed("opportunities", len(o), lambda: csv_copy(cursor, "funnel_opportunity", opportunity_frame, text))
        k = shape.contracts
        contract_id = base[Contract] + np.arange(len(k), dtype=np.int64)
        renews = k["renews"].to_numpy()
        contract_frame = pd.DataFrame(
            {
                "id": contract_id,
                "workspace_id": ws,
                "account_id": account_id[k["account"].to_numpy()],
                "opportunity_id": opportunity_id[k["opportunity"].to_numpy()],
                "start_date": pd.Series(k["start_date"]).dt.strftime("%Y-%m-%d"),
                "end_date": pd.Series(k["end_date"]).dt.strftime("%Y-%m-%d"),
                "annual_value": k["annual_value"].round(2),
                "status": k["status"],
                "renews_id": pd.array(np.where(renews >= 0, contract_id[np.maximum(renews, 0)], 0), dtype="Int64"),
                "external_id": [f"ctr-{i:07d}" for i in range(1, len(k) + 1)],
                "created_at": _times(k["start_date"].to_numpy().astype("datetime64[s]").astype(np.int64)),
                "updated_at": _times(np.full(len(k), now)),
            }
        )
        contract_frame.loc[renews < 0, "renews_id"] = pd.NA
        timed(
            "contracts",
            len(k),
            lambda: csv_copy(cursor, "funnel_contract", contract_frame, ["status", "external_id"]),
        )
        t = shape.touches
        n = len(t)
        campaign = t["campaign"].to_numpy()
        occurred = t["occurred_at"].to_numpy()
        touch_columns = [
            Column("id", "int8", base[Touch] + np.arange(n, dtype=np.int64)),
            Column("workspace_id", "int8", np.full(n, ws, np.int64)),
            Column("lead_id", "int8", lead_id[t["lead"].to_numpy()]),
            Column("account_id", "int8", account_id[t["account"].to_numpy()]),
            Column("campaign_id", "int8", campaign_id[np.maximum(campaign, 0)], null=campaign < 0),
            Column("channel_id", "int8", channel[t["channel"].to_numpy()]),
            Column("type", "text", t["type"].to_numpy(), TOUCH_TYPES),
            Column("occurred_at", "ts", occurred),
            Column("external_id", "text", np.zeros(n, np.int8), [""]),
            Column("created_at", "ts", occurred),
            Column("updated_at", "ts", occurred),
        ]
        timed("touches", n, lambda: binary_copy(cursor, "attribution_touch", touch_columns, n))
        e = shape.events
        n = len(e)
        opportunity = e["opportunity"].to_numpy()
        reasons = sorted(set(e["reason"].tolist()))
        reason_code = pd.Categorical(e["reason"], categories=reasons).codes
        event_columns = [
            Column("id", "int8", base[StageEvent] + np.arange(n, dtype=np.int64)),
            Column("workspace_id", "int8", np.full(n, ws, np.int64)),
            Column("lead_id", "int8", lead_id[e["lead"].to_numpy()]),
            Column("account_id", "int8", account_id[e["account"].to_numpy()]),
            Column("opportunity_id", "int8", opportunity_id[np.maximum(opportunity, 0)], null=opportunity < 0),
            Column("stage", "text", e["stage"].to_numpy(), STAGES),
            Column("from_stage", "text", e["from_stage"].to_numpy() + 1, ("", *STAGES)),
            Column("entered_at", "ts", e["entered_at"].to_numpy()),
            Column("source", "text", np.zeros(n, np.int8), ["import"]),
            Column("reason", "text", reason_code, reasons),
            Column("note", "text", (e["note"] == shape.other_note).to_numpy().astype(np.int8), ["", shape.other_note]),
            Column("recorded_at", "ts", np.full(n, now, np.int64)),
        ]
        timed("stage events", n, lambda: binary_copy(cursor, "funnel_stageevent", event_columns, n))
        models = (Account, TargetList, TargetListMember, Campaign, Lead, Touch, Opportunity, Contract, StageEvent)
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
            )
    timings["copy"] = time.perf_counter() - started
    started = time.perf_counter()
    create_indexes(definitions)
    timings["indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (Account, TargetListMember, Campaign, Lead, Touch, Opportunity, Contract, StageEvent):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    timings["analyze"] = time.perf_counter() - started
    timings["index_count"] = len(definitions)
    return timings
