"""The engine takes any record the product accepts, and any span of time it is given.

Issue 9 item 6: one lead created 1900-01-01 stopped every recompute of its workspace
(``ValueError: touch and conversion times span more than 34 years``): the (key, time) pairs were
packed into one int64 with 40 bits for the time, and the engine's touch sort into 43 bits (which
also overflowed past 2**20 leads). ``attribution.rules.pair_keys`` packs them when they fit and
ranks the times first when they do not.
"""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import TargetList
from accounts.services import account_create, target_list_add_account
from attribution.models import Channel
from attribution.rules import DAY_MS, candidates, pair_keys
from attribution.services import touch_record
from funnel.models import Contract, StageEvent
from funnel.reports import Filters, attribution_report, funnel_report
from funnel.services import lead_accept, lead_stage_move, opportunity_create, opportunity_lose, opportunity_win
from funnel.snapshots import recompute_workspace
from leads.models import Lead
from leads.services import lead_create
from workspaces.scoping import workspace_scope

from . import engine_reference as ref
from .factories import CampaignFactory, WorkspaceFactory
from .test_engine_reference import _credit, assert_same, assert_same_credit

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MS_1900 = -2_208_988_800_000
MS_2200 = 7_258_118_400_000

# --- the packing, alone ---------------------------------------------------------------------

times_strategy = st.integers(-(2**62), 2**62) | st.integers(MS_1900, MS_2200) | st.integers(0, 10)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(-1, 9), times_strategy), max_size=60),
    probes=st.lists(st.tuples(st.integers(-1, 9), times_strategy), max_size=10),
    n_keys=st.sampled_from([10, 2**40]),  # 2**40 keys leave too few bits: the times are ranked
)
def test_pair_keys_order_and_tie_as_the_pairs_do_over_any_span(rows, probes, n_keys):
    keys, times = np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows], np.int64)
    probe_keys, probe_times = np.array([p[0] for p in probes], np.int64), np.array([p[1] for p in probes], np.int64)
    packed, packed_probes = pair_keys(n_keys, (keys, times), (probe_keys, probe_times))
    assert np.argsort(packed, kind="stable").tolist() == np.lexsort((times, keys)).tolist()
    for probe, (key, time) in zip(packed_probes.tolist(), probes, strict=True):
        for row, (other_key, other_time) in zip(packed.tolist(), rows, strict=True):
            assert (probe < row) == ((key, time) < (other_key, other_time))
            assert (probe == row) == ((key, time) == (other_key, other_time))


def test_candidates_take_touches_and_conversions_three_centuries_apart():
    # key 1: touches in 1900, 1970 and 2199; key 2: one in 2000. Conversions in 2200 and 1969.
    touch_key = np.array([1, 1, 1, 2])
    touch_time = np.array([MS_1900, 0, MS_2200 - DAY_MS, 946_684_800_000])
    conv_key, conv_time = np.array([1, 1, 2]), np.array([MS_2200, -DAY_MS, MS_2200])
    found = candidates(touch_key, touch_time, conv_key, conv_time, lookback_ms=0)
    assert found.counts.tolist() == [3, 1, 1]
    assert found.touch.tolist() == [0, 1, 2, 0, 3]
    one_year = candidates(touch_key, touch_time, conv_key, conv_time, lookback_ms=365 * DAY_MS)
    assert one_year.counts.tolist() == [1, 0, 0]
    assert one_year.touch.tolist() == [2]


# --- a whole recompute of extreme but accepted records ---------------------------------------------


def _build_extremes(workspace, now: dt.datetime) -> None:
    """Records at the edges of what the product takes, through the services."""
    soon = now + dt.timedelta(minutes=4)
    channels = {c.slug: c for c in Channel.objects.all()}
    forever = CampaignFactory(
        workspace=workspace, name="1900 to 2200", channel=channels["email"],
        start_date=dt.date(1900, 1, 1), end_date=dt.date(2200, 1, 1), budget=Decimal("999999999999.99"),
        actual_cost=Decimal("999999999999.99"), external_id="FOREVER",
    )  # fmt: skip
    free = CampaignFactory(workspace=workspace, name="Free", channel=channels["webinar"], budget=0, actual_cost=0)
    big = account_create(workspace=workspace, name="Big", domain="big.example", segment="enterprise")
    small = account_create(workspace=workspace, name="Small", domain="small.example")
    abm = TargetList.objects.create(workspace=workspace, name="ABM")
    target_list_add_account(workspace=workspace, target_list=abm, account=big, tier=1)

    # captured at the epoch, touched at the epoch and four minutes ahead, won for the most we
    # take, closed four minutes ahead
    first = lead_create(workspace=workspace, email="first@big.example", account=big, entered_at=EPOCH)
    touch_record(workspace=workspace, lead=first, channel=channels["email"], type="email_click",
                 occurred_at=EPOCH, campaign=forever)  # fmt: skip
    touch_record(workspace=workspace, lead=first, channel=channels["webinar"], type="webinar_attended",
                 occurred_at=soon, campaign=free)  # fmt: skip
    lead_stage_move(workspace=workspace, lead=first, to_stage="mql", entered_at=EPOCH)
    lead_accept(workspace=workspace, lead=first, actor=None, entered_at=EPOCH + dt.timedelta(milliseconds=1))
    whale = opportunity_create(
        workspace=workspace, account=big, primary_lead=first, name="Whale", amount=Decimal("999999999999.99"),
        created_at=EPOCH + dt.timedelta(days=1), expected_close_date=dt.date(2200, 1, 1),
    )  # fmt: skip
    opportunity_win(workspace=workspace, opportunity=whale, closed_at=soon)

    # a deal for nothing, lost at once; a person touched at the epoch only, never captured
    second = lead_create(workspace=workspace, email="second@small.example", account=small, entered_at=soon)
    touch_record(workspace=workspace, lead=second, channel=channels["paid_search"], type="ad_click", occurred_at=EPOCH)
    lead_accept(workspace=workspace, lead=second, actor=None, entered_at=soon)
    nothing = opportunity_create(
        workspace=workspace, account=small, primary_lead=second, name="Nothing", amount=0, created_at=soon
    )
    opportunity_lose(workspace=workspace, opportunity=nothing, reason="price", closed_at=soon)
    lead_create(workspace=workspace, email="touched@big.example", account=big, stage="touched", entered_at=EPOCH)
    # the contract the whale made runs to the end of the dates we take
    Contract.objects.filter(opportunity=whale).update(end_date=dt.date(2200, 1, 1))


# The oracle's time decay weighs 2**-days and divides by the sum, which underflows to 0/0 when
# every candidate is decades old; the engine shifts by the nearest candidate first. Its credits
# are checked by their totals instead.
_ORACLE_MODELS = [model for model in ref.MODELS if model != "time_decay"]


@pytest.fixture(params=["Pacific/Kiritimati", "Pacific/Pago_Pago"], ids=["utc+14", "utc-11"])
def extremes(db, request):
    workspace = WorkspaceFactory(slug="extremes", timezone=request.param, attribution_lookback_days=0)
    with workspace_scope(workspace):
        _build_extremes(workspace, dt.datetime.now(dt.UTC))
        yield workspace


def test_a_recompute_of_extreme_but_accepted_records_matches_the_reference(extremes):
    snapshot = recompute_workspace(workspace=extremes)
    assert snapshot.status == "done", snapshot.error
    data = ref.History(extremes, as_of=dt.datetime.fromisoformat(snapshot.parameters["as_of"]))
    for by in (None, *ref.BREAKDOWNS):
        for view in ("cohort", "period"):
            report = funnel_report(extremes, view=view, by=by)
            expected = ref.funnel_rows(data, view=view, by=by)
            actual = {(row.get("key", ""), row["stage"]): row for row in report["rows"]}
            assert set(actual) == set(expected), (by, view, sorted(actual), sorted(expected))
            for where, row in expected.items():
                assert_same(actual[where], row, (by, view, where))
    for level in ref.LEVELS:
        count, value = ref.conversion_totals(data, level)
        assert count > 0
        for model in ref.MODELS:
            for by in ("channel",) if model == "markov" else ("channel", "campaign"):
                report = attribution_report(extremes, model=model, level=level, by=by)
                if model in _ORACLE_MODELS:
                    assert_same_credit(_credit(report), ref.attribution_rows(data, model=model, level=level, by=by))
                assert sum(r["conversions"] for r in report["rows"]) == pytest.approx(count)
                assert sum(r["value"] for r in report["rows"]) == pytest.approx(value)
    revenue = attribution_report(extremes, model="linear", level="revenue", by="channel")
    # each row is rounded to the cent
    assert sum(r["value"] for r in revenue["rows"]) == pytest.approx(
        999_999_999_999.99, abs=0.01 * len(revenue["rows"])
    )
    # the epoch's local day (1969-12-31 west of Greenwich) alone: the target account touched then
    day = data.local_date(0)
    headline = funnel_report(extremes, filters=Filters(day, day))["headline"]
    assert (headline["target_accounts_touched"], headline["target_accounts"]) == (1, 1)
    assert ref.target_accounts_touched(data, date_from=day, date_to=day) == (1, 1)
    # retention over a contract ending in 2200: renewed or churned, it cannot be judged yet
    assert funnel_report(extremes)["headline"]["people_touched"] == 3


def test_a_lead_of_1900_written_before_the_range_held_no_longer_stops_the_recompute(extremes):
    # the record of the issue, as a workspace may still hold it from before the API refused it
    lead = Lead.objects.get(email="first@big.example")
    old = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
    StageEvent.objects.filter(lead=lead, stage="lead").update(entered_at=old)
    Lead.objects.filter(pk=lead.pk).update(created_at=old, captured_at=old)
    snapshot = recompute_workspace(workspace=extremes)
    assert snapshot.status == "done", snapshot.error
    data = ref.History(extremes, as_of=dt.datetime.fromisoformat(snapshot.parameters["as_of"]))
    for level in ref.LEVELS:
        for model in _ORACLE_MODELS:
            report = attribution_report(extremes, model=model, level=level, by="channel")
            assert_same_credit(_credit(report), ref.attribution_rows(data, model=model, level=level, by="channel"))
    report = funnel_report(extremes, view="period")
    expected = ref.funnel_rows(data, view="period")
    for where, row in expected.items():
        assert_same({(r.get("key", ""), r["stage"]): r for r in report["rows"]}[where], row, where)
