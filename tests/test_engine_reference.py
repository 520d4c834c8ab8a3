"""Every option of both reports against the brute-force reference of ``tests/engine_reference``.

The history (``tests/engine_data``) is built once per module inside an outer transaction that
is rolled back at the end; each test runs in a savepoint inside it.
"""

import csv
import datetime as dt
import io
import json
import math

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from accounts.models import TargetList
from accounts.services import account_create, target_list_add_account
from attribution.models import Channel
from attribution.services import touch_record
from funnel.reports import (
    ATTRIBUTION_COLUMNS,
    FUNNEL_COLUMNS,
    Filters,
    ReportError,
    attribution_report,
    funnel_report,
)
from funnel.services import lead_stage_move, opportunity_create, opportunity_win
from funnel.snapshots import recompute_workspace
from leads.services import lead_create, lead_merge, leads_upsert
from workspaces.models import Workspace
from workspaces.scoping import workspace_scope

from . import engine_reference as ref
from .engine_data import build_history
from .factories import CampaignFactory, WorkspaceFactory

PERIODS = {
    "all_time": (None, None),
    "range": (dt.date(2025, 9, 1), dt.date(2026, 2, 28)),
    "from_only": (dt.date(2026, 1, 15), None),
    "to_only": (None, dt.date(2025, 12, 31)),
    "one_day": (dt.date(2025, 11, 3), dt.date(2025, 11, 3)),
    "no_data": (dt.date(2031, 1, 1), dt.date(2031, 12, 31)),
}
VIEWS = {
    "cohort": ("cohort", None),
    "cohort_horizon_0": ("cohort", 0.0),
    "cohort_horizon_7": ("cohort", 7.0),
    "cohort_horizon_30_5": ("cohort", 30.5),
    "period": ("period", None),
}
FLOAT_COLUMNS = ("next_stage_conversion", "cumulative_conversion", "median_days_to_next", "p75_days_to_next")


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    """A workspace in New York time with the random history and one done snapshot."""
    with django_db_blocker.unblock(), transaction.atomic():
        workspace = WorkspaceFactory(slug="reference", timezone="America/New_York")
        with workspace_scope(workspace):
            build_history(workspace, seed=20260, n_leads=70)
            snapshot = recompute_workspace(workspace=workspace)
            data = ref.History(workspace, as_of=dt.datetime.fromisoformat(snapshot.parameters["as_of"]))
        yield workspace, data
        transaction.set_rollback(True)


@pytest.fixture
def ws(history, db):
    workspace, _ = history
    with workspace_scope(workspace):
        yield workspace


def assert_same(actual, expected, where):
    for column, value in expected.items():
        got = actual[column]
        if column in FLOAT_COLUMNS:
            if value is None:
                assert got is None, (where, column, got)
            else:
                assert got == pytest.approx(value, rel=1e-9, abs=1e-6), (where, column, got, value)
        else:
            assert got == value, (where, column, got, value)


def test_the_history_covers_the_cases_the_reference_is_for(history):
    _, data = history
    stages = {e.stage for e in data.events}
    assert {"touched", "lead", "mql", "sal", "opportunity", "won", "renewed"} <= stages
    assert {"rejected", "recycled", "disqualified", "lost", "churned"} <= stages
    skipped_mql = [lid for lid, f in data.first.items() if "sal" in f and "mql" not in f]
    captured_directly = [lid for lid, f in data.first.items() if "lead" in f and "touched" not in f]
    assert skipped_mql and captured_directly
    assert any(lead.id not in data.touches_of_lead for lead in data.leads)
    assert any(t.campaign_id is None for t in data.touches) and any(t.campaign_id for t in data.touches)
    times = [(t.lead.account_id, t.occurred_at) for t in data.touches]
    assert len(times) > len(set(times)), "some touches tie in time"
    found, _ = ref.conversions(data, "revenue")
    assert any(not ref.candidates(data, c) for c in found) or any(
        not ref.candidates(data, c) for c in ref.conversions(data, "lead")[0]
    ), "some conversion has no touch"
    assert any(len(ref.candidates(data, c)) < len(c.all_touches) for c in found), "touches after or too old"


@pytest.mark.parametrize("by", [None, *ref.BREAKDOWNS])
@pytest.mark.parametrize("period", list(PERIODS))
@pytest.mark.parametrize("view", list(VIEWS))
def test_funnel_report_matches_the_reference(history, ws, by, period, view):
    _, data = history
    date_from, date_to = PERIODS[period]
    view_name, horizon = VIEWS[view]
    report = funnel_report(ws, filters=Filters(date_from, date_to), view=view_name, horizon_days=horizon, by=by)
    expected = ref.funnel_rows(data, date_from=date_from, date_to=date_to, view=view_name, horizon_days=horizon, by=by)
    actual = {(row.get("key", ""), row["stage"]): row for row in report["rows"]}
    assert set(actual) == set(expected)
    for where, row in expected.items():
        assert_same(actual[where], row, where)
        if by:
            assert actual[where]["breakdown"] == by


ATTRIBUTION_CASES = [
    (model, level, by)
    for model in ref.MODELS
    for level in ref.LEVELS
    for by in ("channel", "campaign")
    if not (model == "markov" and by == "campaign")
]


def _credit(report) -> dict[str, tuple[float, float]]:
    return {row["key"]: (row["conversions"], row["value"]) for row in report["rows"]}


def assert_same_credit(actual: dict, expected: dict):
    for key in set(actual) | set(expected):
        conversions, value = actual.get(key, (0.0, 0.0))
        want = expected.get(key, {"conversions": 0.0, "value": 0.0})
        assert conversions == pytest.approx(want["conversions"], abs=1e-9), key
        assert value == pytest.approx(want["value"], abs=0.006), key


@pytest.mark.parametrize(("model", "level", "by"), ATTRIBUTION_CASES)
@pytest.mark.parametrize("period", ["all_time", "range", "to_only", "no_data"])
def test_attribution_report_matches_the_reference(history, ws, model, level, by, period):
    _, data = history
    date_from, date_to = PERIODS[period]
    report = attribution_report(ws, model=model, level=level, by=by, filters=Filters(date_from, date_to))
    expected = ref.attribution_rows(data, model=model, level=level, by=by, date_from=date_from, date_to=date_to)
    assert_same_credit(_credit(report), expected)
    assert {row["key"] for row in report["rows"]} <= set(expected) | {
        key for key, row in expected.items() if row["conversions"] == 0
    }


@pytest.mark.parametrize(("lookback", "half_life"), [(0, 7), (30, 3), (400, 1)], ids=["no_limit", "30d_h3", "400d_h1"])
@pytest.mark.parametrize("level", ref.LEVELS)
def test_attribution_follows_the_workspace_lookback_and_half_life(history, ws, lookback, half_life, level):
    Workspace.objects.filter(pk=ws.pk).update(attribution_lookback_days=lookback, time_decay_half_life_days=half_life)
    workspace = Workspace.objects.get(pk=ws.pk)
    snapshot = recompute_workspace(workspace=workspace)
    data = ref.History(workspace, as_of=dt.datetime.fromisoformat(snapshot.parameters["as_of"]))
    for model in ref.MODELS:
        for by in ("channel",) if model == "markov" else ("channel", "campaign"):
            report = attribution_report(workspace, model=model, level=level, by=by)
            assert_same_credit(_credit(report), ref.attribution_rows(data, model=model, level=level, by=by))


@pytest.mark.parametrize("level", ref.LEVELS)
@pytest.mark.parametrize("period", ["all_time", "range", "from_only"])
def test_every_model_credits_all_conversions_and_all_value(history, ws, level, period):
    _, data = history
    date_from, date_to = PERIODS[period]
    count, value = ref.conversion_totals(data, level, date_from, date_to)
    assert count > 0
    for model in ref.MODELS:
        for by in ("channel",) if model == "markov" else ("channel", "campaign"):
            report = attribution_report(ws, model=model, level=level, by=by, filters=Filters(date_from, date_to))
            assert sum(r["conversions"] for r in report["rows"]) == pytest.approx(count), (model, by)
            assert sum(r["value"] for r in report["rows"]) == pytest.approx(value, abs=0.01 * len(report["rows"]))


def test_markov_by_campaign_is_refused_with_a_message(ws):
    with pytest.raises(ReportError, match="markov model is channel-level"):
        attribution_report(ws, model="markov", level="lead", by="campaign")
    with pytest.raises(CommandError, match="markov model is channel-level"):
        call_command(
            "report", "attribution", "--workspace", ws.slug, "--model", "markov", "--level", "lead", "--by",
            "campaign", stdout=io.StringIO(),
        )  # fmt: skip


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ws: attribution_report(ws, model="u_shaped", level="lead"), "Unknown model 'u_shaped'"),
        (lambda ws: attribution_report(ws, model="influenced", level="lead"), "Unknown model 'influenced'"),
        (lambda ws: attribution_report(ws, model="linear", level="pipeline"), "Unknown level 'pipeline'"),
        (lambda ws: attribution_report(ws, model="linear", level="lead", by="segment"), "not 'segment'"),
        (lambda ws: funnel_report(ws, by="region"), "Unknown breakdown 'region'"),
        (lambda ws: funnel_report(ws, view="weekly"), "Unknown view 'weekly'"),
        (lambda ws: funnel_report(ws, horizon_days=-1), "horizon"),
        (
            lambda ws: funnel_report(ws, filters=Filters(dt.date(2026, 2, 1), dt.date(2026, 1, 1))),
            "is after",
        ),
    ],
)
def test_unknown_options_are_refused(ws, call, message):
    with pytest.raises(ReportError, match=message):
        call(ws)


@pytest.mark.parametrize("by", [None, *ref.BREAKDOWNS])
def test_a_period_without_data_gives_zeros_and_no_nan(ws, by):
    report = funnel_report(ws, filters=Filters(*PERIODS["no_data"]), by=by)
    assert report["rows"]
    for row in report["rows"]:
        assert row["entered"] == 0 and row["reached"] == 0
        assert all(row[c] is None for c in FLOAT_COLUMNS)
    text = json.dumps(report)  # strict JSON: NaN would not be allowed
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in the report"))
    for model in ref.MODELS:
        empty = attribution_report(ws, model=model, level="revenue", filters=Filters(*PERIODS["no_data"]))
        assert empty["rows"] == []


def _run(*args) -> str:
    out = io.StringIO()
    call_command("report", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("by", [None, "channel", "cohort_month"])
def test_funnel_command_prints_the_fixed_csv_columns_and_the_same_json(history, ws, by):
    args = ["funnel", "--workspace", ws.slug, "--from", "2025-09-01", "--to", "2026-02-28", "--view", "cohort"]
    args += ["--horizon", "30"] + (["--by", by] if by else [])
    rows = list(csv.DictReader(io.StringIO(_run(*args, "--format", "csv"))))
    columns = (["breakdown", "key"] if by else []) + list(FUNNEL_COLUMNS)
    header = _run(*args, "--format", "csv").splitlines()[0]
    assert header == ",".join(columns)
    document = json.loads(_run(*args, "--format", "json"))
    assert len(rows) == len(document["rows"]) > 0
    for csv_row, json_row in zip(rows, document["rows"], strict=True):
        assert list(json_row) == columns
        for column in columns:
            value = json_row[column]
            assert csv_row[column] == ("" if value is None else str(value))
    expected = ref.funnel_rows(
        history[1], date_from=dt.date(2025, 9, 1), date_to=dt.date(2026, 2, 28), horizon_days=30, by=by
    )
    for json_row in document["rows"]:
        assert_same(json_row, expected[(json_row.get("key", ""), json_row["stage"])], json_row)


@pytest.mark.parametrize(("model", "by"), [("w_shaped", "campaign"), ("markov", "channel"), ("linear", "channel")])
def test_attribution_command_prints_the_fixed_csv_columns_and_the_same_json(history, ws, model, by):
    args = ["attribution", "--workspace", ws.slug, "--model", model, "--level", "revenue", "--by", by]
    text = _run(*args, "--format", "csv")
    assert text.splitlines()[0] == ",".join(ATTRIBUTION_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text)))
    document = json.loads(_run(*args, "--format", "json"))
    assert len(rows) == len(document["rows"]) > 0
    for csv_row, json_row in zip(rows, document["rows"], strict=True):
        assert list(json_row) == list(ATTRIBUTION_COLUMNS)
        assert (csv_row["model"], csv_row["level"], csv_row["by"]) == (model, "revenue", by)
        assert float(csv_row["conversions"]) == pytest.approx(json_row["conversions"])
        assert float(csv_row["value"]) == pytest.approx(json_row["value"])
    expected = ref.attribution_rows(history[1], model=model, level="revenue", by=by)
    assert_same_credit({r["key"]: (r["conversions"], r["value"]) for r in document["rows"]}, expected)
    if by == "campaign":
        keys = {r["key"] for r in document["rows"]}
        assert "no_campaign" in keys
        assert all(not math.isnan(r["value"]) for r in document["rows"])


def test_report_command_names_a_missing_snapshot(db):
    WorkspaceFactory(slug="empty")
    with pytest.raises(CommandError, match="no computed snapshot yet"):
        _run("funnel", "--workspace", "empty")


@pytest.mark.parametrize("period", list(PERIODS))
def test_funnel_exits_match_the_reference(history, ws, period):
    _, data = history
    date_from, date_to = PERIODS[period]
    report = funnel_report(ws, filters=Filters(date_from, date_to))
    assert report["exits"] == ref.exits(data, date_from=date_from, date_to=date_to)
    if period == "all_time":
        assert report["exits"]["recycled_later_sal"] > 0
        assert report["headline"]["people_touched"] == len(data.leads)


# --- touches whose account changed after they were recorded --------------------------------

MOVES_BASE = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


def _day(n: float) -> dt.datetime:
    return MOVES_BASE + dt.timedelta(days=n)


def _build_account_moves(workspace) -> None:
    """A touch recorded before its lead had an account (now in Alpha), a lead moved from Alpha
    to Beta after its touch, and a lead of Gamma merged into one of Beta; Alpha and Beta are
    target accounts and each has a won deal."""
    alpha, beta, gamma = (
        account_create(workspace=workspace, name=name, domain=f"{name}.example", external_id=name, segment=segment)
        for name, segment in (("alpha", "smb"), ("beta", "enterprise"), ("gamma", "mid_market"))
    )
    abm = TargetList.objects.create(workspace=workspace, name="ABM")
    target_list_add_account(workspace=workspace, target_list=abm, account=alpha, tier=1)
    target_list_add_account(workspace=workspace, target_list=abm, account=beta, tier=2)
    channel = {c.slug: c for c in Channel.objects.all()}
    campaign = CampaignFactory(workspace=workspace, channel=channel["email"], external_id="moves-email")

    early = lead_create(workspace=workspace, email="early@moves.test", entered_at=_day(1))
    touch_record(workspace=workspace, lead=early, channel=channel["paid_search"], type="ad_click", occurred_at=_day(0))
    leads_upsert(workspace=workspace, records=[{"email": early.email, "account_external_id": "alpha"}])

    mover = lead_create(workspace=workspace, email="mover@moves.test", entered_at=_day(2), account=alpha)
    touch_record(
        workspace=workspace, lead=mover, channel=channel["email"], campaign=campaign, type="email_click",
        occurred_at=_day(3),
    )  # fmt: skip
    leads_upsert(workspace=workspace, records=[{"email": mover.email, "account_external_id": "beta"}])

    survivor = lead_create(workspace=workspace, email="survivor@moves.test", entered_at=_day(4), account=beta)
    loser = lead_create(workspace=workspace, email="loser@moves.test", entered_at=_day(5), account=gamma)
    touch_record(workspace=workspace, lead=loser, channel=channel["events"], type="event_attended", occurred_at=_day(6))
    touch_record(workspace=workspace, lead=survivor, channel=channel["webinar"], type="web_visit", occurred_at=_day(7))
    lead_merge(workspace=workspace, survivor=survivor, loser=loser)

    for lead, account, amount in ((early, alpha, 1000), (survivor, beta, 2000)):
        lead.refresh_from_db()
        lead_stage_move(workspace=workspace, lead=lead, to_stage="sal", entered_at=_day(9))
        deal = opportunity_create(
            workspace=workspace, account=account, primary_lead=lead, name="deal", amount=amount, created_at=_day(10)
        )
        opportunity_win(workspace=workspace, opportunity=deal, closed_at=_day(20))


@pytest.fixture
def moves(scoped):
    scoped.timezone = "UTC"
    scoped.save(update_fields=["timezone"])
    _build_account_moves(scoped)
    snapshot = recompute_workspace(workspace=scoped)
    return scoped, ref.History(scoped, as_of=dt.datetime.fromisoformat(snapshot.parameters["as_of"]))


def test_account_levels_credit_the_touches_of_the_account_s_leads_now(moves):
    workspace, data = moves
    first = attribution_report(workspace, model="first_touch", level="opportunity")
    # Alpha's deal: the touch recorded before its lead had an account; Beta's: the moved lead's
    assert_same_credit(
        _credit(first),
        {"paid_search": {"conversions": 1.0, "value": 1000.0}, "email": {"conversions": 1.0, "value": 2000.0}},
    )
    # Beta's leads now: the moved one (email) and the survivor, with the merged lead's touch (events)
    third = {"conversions": 1 / 3, "value": 666.67}
    assert_same_credit(
        _credit(attribution_report(workspace, model="linear", level="revenue")),
        {"paid_search": {"conversions": 1.0, "value": 1000.0}, "email": third, "events": third, "webinar": third},
    )
    for model, level, by in ATTRIBUTION_CASES:
        report = attribution_report(workspace, model=model, level=level, by=by)
        assert_same_credit(_credit(report), ref.attribution_rows(data, model=model, level=level, by=by))


@pytest.mark.parametrize(
    ("date_from", "date_to", "touched"),
    [
        (None, None, 2),
        (_day(0).date(), _day(0).date(), 1),
        (_day(3).date(), _day(3).date(), 1),
        (_day(8).date(), None, 0),
    ],
)
def test_target_account_reach_follows_the_leads_current_accounts(moves, date_from, date_to, touched):
    workspace, data = moves
    headline = funnel_report(workspace, filters=Filters(date_from, date_to))["headline"]
    assert ref.target_accounts_touched(data, date_from=date_from, date_to=date_to) == (touched, 2)
    assert (headline["target_accounts_touched"], headline["target_accounts"]) == (touched, 2)
    assert headline["target_account_reach"] == touched / 2


@pytest.mark.parametrize("by", [None, "segment", "tier", "channel"])
def test_the_funnel_of_moved_and_merged_leads_matches_the_reference(moves, by):
    workspace, data = moves
    report = funnel_report(workspace, by=by)
    expected = ref.funnel_rows(data, by=by)
    actual = {(row.get("key", ""), row["stage"]): row for row in report["rows"]}
    assert set(actual) == set(expected)
    for where, row in expected.items():
        assert_same(actual[where], row, where)
