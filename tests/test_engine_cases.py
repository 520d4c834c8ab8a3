"""Hand-worked cases of the engine, with exact numbers worked out on paper.

A small workspace in UTC, built through the services (``small``):

- account Alpha (ABM tier 1): Pat (the primary lead) and Sam, the buying committee of one deal.
  Touches, in time order: t1 Pat paid_search/Search 03-01 09:00 (before Pat's capture),
  t2 Sam email/Newsletter 03-01 12:00, t3 Sam email without campaign 03-10, t4 Pat events
  without campaign 03-20, t5 Sam email/Newsletter 04-10, t6 Pat paid_search/Search 05-10.
  Pat: lead 03-02, mql 03-12, sal 03-18, a 10 000 deal opened 04-01 and won 05-01 (contract
  2025-05-01 to 2026-05-01), renewed for 12 000 from 2026-05-01. Sam: lead 03-15, mql 03-25.
- account Beta (tier 2): Kim, touched once (t7 webinar/Webinar 06-01) before having any
  account, then put in Beta; never captured.
- account Gamma (tier 3): nobody.
- no account: Lou, captured 07-01, never touched.
- account Echo: Eve, a 4 000 deal opened 02-10 and lost. Account Foxtrot: Fay, a 3 000 deal
  won 02-01 (contract 2025-02-01 to 2026-02-01, never renewed: it lapses). Neither has touches.

The deal's candidates at its opening (04-01) are t1..t4; at its close (05-01) t1..t5 (t6 is
after it). W positions: first t1; lead creation t2, the last touch at or before Pat's entry into
lead (03-02; Sam's own entry, 03-15, would give t3); opportunity creation t4.
"""

import datetime as dt
import io
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from accounts.models import TargetList
from accounts.services import account_create, target_list_add_account
from attribution.models import Channel
from attribution.services import touch_record
from funnel.engine import CREDIT_MODELS, LEVELS, STAGE_CODES, Inputs, compute
from funnel.metrics import retention
from funnel.reports import Filters, ReportError, attribution_report, campaign_report, funnel_report
from funnel.services import lead_reject, lead_stage_move, opportunity_create, opportunity_lose, opportunity_win
from funnel.snapshots import latest_done, recompute_workspace
from leads.services import lead_create, leads_upsert

from .factories import CampaignFactory, MembershipFactory


def at(month: int, day: int, hour: int = 9, year: int = 2025) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


def _won(workspace, lead, account, amount, opened, closed, start, end, kind="new_business"):
    deal = opportunity_create(
        workspace=workspace, account=account, primary_lead=lead, name=kind, amount=amount, kind=kind, created_at=opened
    )
    opportunity_win(workspace=workspace, opportunity=deal, closed_at=closed, contract_start=start, contract_end=end)


@pytest.fixture
def small(scoped):
    ws = scoped
    ws.timezone = "UTC"
    ws.save(update_fields=["timezone"])
    alpha, beta, gamma, echo, foxtrot = (
        account_create(workspace=ws, name=name, domain=f"{name}.example", external_id=name)
        for name in ("alpha", "beta", "gamma", "echo", "foxtrot")
    )
    abm = TargetList.objects.create(workspace=ws, name="ABM")
    for account, tier in ((alpha, 1), (beta, 2), (gamma, 3)):
        target_list_add_account(workspace=ws, target_list=abm, account=account, tier=tier)
    channel = {c.slug: c for c in Channel.objects.all()}
    search = CampaignFactory(
        workspace=ws, name="Search", channel=channel["paid_search"], external_id="search",
        start_date=dt.date(2025, 1, 1), actual_cost=Decimal(1000),
    )  # fmt: skip
    newsletter = CampaignFactory(
        workspace=ws, name="Newsletter", channel=channel["email"], start_date=dt.date(2025, 1, 1),
        actual_cost=Decimal(500),
    )  # fmt: skip
    webinar = CampaignFactory(
        workspace=ws, name="Webinar", channel=channel["webinar"], external_id="webinar",
        start_date=dt.date(2025, 1, 1), actual_cost=Decimal(300),
    )  # fmt: skip

    pat = lead_create(workspace=ws, email="pat@alpha.example", entered_at=at(3, 2), account=alpha)
    lead_stage_move(workspace=ws, lead=pat, to_stage="mql", entered_at=at(3, 12))
    lead_stage_move(workspace=ws, lead=pat, to_stage="sal", entered_at=at(3, 18))
    _won(ws, pat, alpha, 10_000, at(4, 1), at(5, 1), dt.date(2025, 5, 1), dt.date(2026, 5, 1))
    _won(
        ws, pat, alpha, 12_000, at(4, 1, year=2026), at(4, 20, year=2026), dt.date(2026, 5, 1), dt.date(2027, 5, 1),
        kind="renewal",
    )  # fmt: skip
    sam = lead_create(workspace=ws, email="sam@alpha.example", entered_at=at(3, 15), account=alpha)
    lead_stage_move(workspace=ws, lead=sam, to_stage="mql", entered_at=at(3, 25))
    kim = lead_create(workspace=ws, email="kim@beta.example", stage="touched", entered_at=at(6, 1))
    lead_create(workspace=ws, email="lou@nowhere.example", entered_at=at(7, 1))
    eve = lead_create(workspace=ws, email="eve@echo.example", entered_at=at(2, 1), account=echo)
    lead_stage_move(workspace=ws, lead=eve, to_stage="sal", entered_at=at(2, 5))
    lost = opportunity_create(
        workspace=ws, account=echo, primary_lead=eve, name="lost", amount=4000, created_at=at(2, 10)
    )
    opportunity_lose(workspace=ws, opportunity=lost, reason="price", closed_at=at(2, 20))
    fay = lead_create(workspace=ws, email="fay@foxtrot.example", entered_at=at(1, 10), account=foxtrot)
    lead_stage_move(workspace=ws, lead=fay, to_stage="sal", entered_at=at(1, 15))
    _won(ws, fay, foxtrot, 3000, at(1, 20), at(2, 1), dt.date(2025, 2, 1), dt.date(2026, 2, 1))

    for lead, slug, campaign, kind, when in (
        (pat, "paid_search", search, "ad_click", at(3, 1)),
        (sam, "email", newsletter, "email_click", at(3, 1, 12)),
        (sam, "email", None, "email_click", at(3, 10)),
        (pat, "events", None, "event_attended", at(3, 20)),
        (sam, "email", newsletter, "email_click", at(4, 10)),
        (pat, "paid_search", search, "ad_click", at(5, 10)),
        (kim, "webinar", webinar, "webinar_attended", at(6, 1)),
    ):
        touch_record(workspace=ws, lead=lead, channel=channel[slug], campaign=campaign, type=kind, occurred_at=when)
    leads_upsert(workspace=ws, records=[{"email": kim.email, "account_external_id": "beta"}])
    recompute_workspace(workspace=ws)
    return ws, {"newsletter": str(newsletter.pk)}


def credit(workspace, model, level, by="channel") -> dict[str, tuple[float, float]]:
    rows = attribution_report(workspace, model=model, level=level, by=by)["rows"]
    return {row["key"]: (round(row["conversions"], 9), row["value"]) for row in rows if row["conversions"]}


# Per model: credit by channel as (conversions, value). The deals of Echo and Foxtrot have no
# touch: "none", under every model. Opportunity level: t1 paid_search, t2 and t3 email, t4 events.
OPPORTUNITY_BY_CHANNEL = {
    "first_touch": {"paid_search": (1.0, 10_000.0)},
    "last_touch": {"events": (1.0, 10_000.0)},
    "linear": {"paid_search": (0.25, 2500.0), "email": (0.5, 5000.0), "events": (0.25, 2500.0)},
    "position_based": {"paid_search": (0.4, 4000.0), "email": (0.2, 2000.0), "events": (0.4, 4000.0)},
    # first t1, lead creation t2, opportunity creation t4: 30% each; t3 the other 10%
    "w_shaped": {"paid_search": (0.3, 3000.0), "email": (0.4, 4000.0), "events": (0.3, 3000.0)},
}
# Revenue level: t5 (email, 04-10) joins before the close; t6 (05-10) is after it.
REVENUE_BY_CHANNEL = {
    "first_touch": {"paid_search": (1.0, 10_000.0)},
    "last_touch": {"email": (1.0, 10_000.0)},
    "linear": {"paid_search": (0.2, 2000.0), "email": (0.6, 6000.0), "events": (0.2, 2000.0)},
    # 40% t1 and t5, 20% / 3 each to t2, t3, t4
    "position_based": {"paid_search": (0.4, 4000.0), "email": (0.533333333, 5333.33), "events": (0.066666667, 666.67)},
    # the same three positions; t3 and t5 share the other 10%
    "w_shaped": {"paid_search": (0.3, 3000.0), "email": (0.4, 4000.0), "events": (0.3, 3000.0)},
}


@pytest.mark.parametrize("model", list(OPPORTUNITY_BY_CHANNEL))
def test_opportunity_level_credits_the_buying_committee_s_touches(small, model):
    workspace, _ = small
    expected = OPPORTUNITY_BY_CHANNEL[model] | {"none": (2.0, 7000.0)}
    assert credit(workspace, model, "opportunity") == expected


@pytest.mark.parametrize("model", list(REVENUE_BY_CHANNEL))
def test_revenue_level_takes_the_touches_up_to_the_close(small, model):
    workspace, _ = small
    expected = REVENUE_BY_CHANNEL[model] | {"none": (1.0, 3000.0)}
    assert credit(workspace, model, "revenue") == expected


def test_time_decay_at_revenue_level_weighs_each_touch_by_its_distance_to_the_close(small):
    workspace, _ = small
    # days before the close (05-01 09:00): t1 61, t2 60.875, t3 52, t4 42, t5 21; half-life 7
    raw = {"t1": 2 ** (-61 / 7), "t2": 2 ** (-60.875 / 7), "t3": 2 ** (-52 / 7), "t4": 2 ** (-42 / 7)}
    raw["t5"] = 2 ** (-21 / 7)
    total = sum(raw.values())
    got = credit(workspace, "time_decay", "revenue")
    assert got["paid_search"][0] == pytest.approx(raw["t1"] / total, abs=1e-9)
    assert got["email"][0] == pytest.approx((raw["t2"] + raw["t3"] + raw["t5"]) / total, abs=1e-9)
    assert got["events"][0] == pytest.approx(raw["t4"] / total, abs=1e-9)


def test_w_shaped_takes_the_lead_creation_touch_from_the_primary_lead(small):
    workspace, keys = small
    # Pat entered lead on 03-02: t2 (Newsletter) holds the position; Sam's entry (03-15) would
    # have given it to t3 (no campaign), leaving Newsletter 10%.
    assert credit(workspace, "w_shaped", "opportunity", by="campaign") == {
        "search": (0.3, 3000.0),
        keys["newsletter"]: (0.3, 3000.0),
        "no_campaign": (0.4, 4000.0),
        "none": (2.0, 7000.0),
    }
    assert credit(workspace, "w_shaped", "revenue", by="campaign") == {
        "search": (0.3, 3000.0),
        keys["newsletter"]: (0.35, 3500.0),
        "no_campaign": (0.35, 3500.0),
        "none": (1.0, 3000.0),
    }


def test_headline_rates(small):
    workspace, _ = small
    headline = funnel_report(workspace)["headline"]
    # touched: all six people (Lou, Eve and Fay through their capture); Kim never captured
    assert headline["people_touched"] == 6
    # Alpha, and Beta through Kim's touch recorded before Kim was put in Beta; Gamma untouched
    assert (headline["target_accounts_touched"], headline["target_accounts"]) == (2, 3)
    assert headline["target_account_reach"] == pytest.approx(2 / 3)
    assert headline["acquisition_rate"] == pytest.approx(5 / 6)
    assert headline["win_rate"] == pytest.approx(2 / 3)  # Pat's and Fay's deals won, Eve's lost


def test_renewal_and_retention_over_a_period(small):
    workspace, _ = small
    headline = funnel_report(workspace, filters=Filters(dt.date(2026, 1, 1), dt.date(2026, 11, 30)))["headline"]
    # ending in the period: Alpha's 10 000 (renewed at 12 000) and Foxtrot's 3 000 (lapsed)
    assert headline["contracts_ending"] == 2
    assert headline["contracts_renewed"] == 1
    assert headline["renewal_rate"] == 0.5
    assert headline["renewal_rate_by_value"] == pytest.approx(10_000 / 13_000)
    assert (headline["start_arr"], headline["churned_arr"], headline["contraction_arr"]) == (13_000, 3000, 0)
    assert headline["expansion_arr"] == 2000
    assert headline["gross_revenue_retention"] == pytest.approx(10_000 / 13_000)
    assert headline["net_revenue_retention"] == pytest.approx(12_000 / 13_000)


def test_a_contract_ending_after_the_snapshot_is_not_judged_yet(small):
    """A period reaching into the future judges renewals and churn up to the snapshot's day."""
    workspace, _ = small
    as_of = dt.date.fromisoformat(latest_done(workspace).parameters["as_of"][:10])
    period = Filters(dt.date(2026, 6, 1), as_of + dt.timedelta(days=3 * 365))
    headline = funnel_report(workspace, filters=period)["headline"]
    assert headline["retention_period"]["to"] == as_of.isoformat()
    # Alpha's renewal (12 000) ends on 2027-05-01 and nothing renews it: churned only once that
    # day has passed, never before.
    assert headline["start_arr"] == 12_000
    assert headline["churned_arr"] == (12_000 if as_of >= dt.date(2027, 5, 1) else 0)


def test_the_campaign_table(small):
    workspace, keys = small
    rows = {row["key"]: row for row in campaign_report(workspace)["rows"]}
    assert rows["search"] == {
        "key": "search", "name": "Search", "channel": "paid_search", "cost": 1000.0,
        "leads": 1, "mqls": 1, "opportunities": 1.0,  # Pat's first touch; the deal's first touch
        "pipeline": 3000.0, "revenue": 3000.0,  # W: t1 30% at opening and at close
        "sourced_pipeline": 10_000.0, "influenced_pipeline": 10_000.0,
        "cost_per_lead": 1000.0, "cost_per_opportunity": 1000.0, "roi": 2.0,  # (3000 - 1000) / 1000
    }  # fmt: skip
    assert rows[keys["newsletter"]] == {
        "key": keys["newsletter"], "name": "Newsletter", "channel": "email", "cost": 500.0,
        "leads": 1, "mqls": 1, "opportunities": 0.0,  # Sam's first touch
        "pipeline": 3000.0, "revenue": 3500.0,  # W: t2 30% at opening; t2 30% + t5 5% at close
        "sourced_pipeline": 0.0, "influenced_pipeline": 10_000.0,
        "cost_per_lead": 500.0, "cost_per_opportunity": None, "roi": 6.0,  # (3500 - 500) / 500
    }  # fmt: skip
    assert rows["webinar"] == {
        "key": "webinar", "name": "Webinar", "channel": "webinar", "cost": 300.0,
        "leads": 0, "mqls": 0, "opportunities": 0.0,  # Kim was never captured
        "pipeline": 0.0, "revenue": 0.0, "sourced_pipeline": 0.0, "influenced_pipeline": 0.0,
        "cost_per_lead": None, "cost_per_opportunity": None, "roi": -1.0,
    }  # fmt: skip


# --- W-shaped when the primary lead has no recorded entry into 'lead' ----------------------

DAY = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def _arrays(columns: dict) -> dict[str, np.ndarray]:
    return {name: np.asarray(values, dtype=np.int64) for name, values in columns.items()}


def test_w_shaped_gives_a_missing_lead_creation_position_to_the_touches_holding_one():
    """Lead 1 (account 7) has ledger rows for sal and opportunity only (history imported that
    way). Its deal opens on day 10 with touches on days 1, 5 and 8 (channels 0, 1, 2): first t1,
    opportunity creation t3, no lead-creation touch, so its 30% goes half to t1 and half to t3:
    t1 45%, t2 10%, t3 45% (not the last touch taking the lead-creation 30%)."""
    inputs = Inputs(
        leads=_arrays({"id": [1], "account": [7], "owner": [-1]}),
        events=_arrays(
            {
                "lead": [1, 1],
                "stage": [STAGE_CODES["sal"], STAGE_CODES["opportunity"]],
                "time": [T0 + 9 * DAY, T0 + 10 * DAY],
                "reason": [0, 0],
                "id": [1, 2],
            }
        ),
        touches=_arrays(
            {
                "lead": [1, 1, 1],
                "channel": [10, 11, 12],
                "campaign": [-1, -1, -1],
                "time": [T0 + d * DAY for d in (1, 5, 8)],
                "id": [1, 2, 3],
            }
        ),  # fmt: skip
        opportunities=_arrays(
            {
                "id": [1],
                "account": [7],
                "lead": [1],
                "kind": [0],
                "closed": [0],
                "cents": [100_000],
                "created": [T0 + 10 * DAY],
                "closed_at": [T0 + 10 * DAY],
            }
        ),  # fmt: skip
        accounts=_arrays({"id": [7], "segment": [1]}),
        targets=_arrays({"account": [], "tier": []}),
        contracts=_arrays({k: [] for k in ("id", "account", "start", "end", "cents", "status", "renews", "kind")}),
        campaigns=[],
        channels=[{"id": 10 + i, "slug": f"c{i}", "name": f"C{i}"} for i in range(3)],
    )
    arrays, _ = compute(inputs, timezone="UTC", lookback_days=365, half_life_days=7.0, now_ms=T0 + 30 * DAY)
    chosen = (arrays["credit_level"] == LEVELS.index("opportunity")) & (
        arrays["credit_model"] == CREDIT_MODELS.index("w_shaped")
    )
    by_channel = np.bincount(arrays["credit_channel"][chosen], arrays["credit_conversions"][chosen], minlength=3)
    assert by_channel == pytest.approx([0.45, 0.1, 0.45])


# --- revenue retention and renewal rate (pure) ---------------------------------------------


def _day(year: int, month: int, day: int) -> int:
    return (dt.date(year, month, day) - dt.date(1970, 1, 1)).days


# contracts: (id, account, start, end, value, status, renews, expansion); status 0 active,
# 1 renewed, 2 churned. The period is 2026; a contract is active on start <= day < end.
RENEWED = [
    (1, 1, (2025, 3, 1), (2026, 3, 1), 1000, 1, -1, False),
    (2, 1, (2026, 3, 1), (2027, 3, 1), 1000, 0, 1, False),
]
CHURNED = [(3, 2, (2025, 4, 1), (2026, 4, 1), 2000, 2, -1, False)]
LAPSED = [(4, 3, (2025, 5, 1), (2026, 5, 1), 3000, 0, -1, False)]  # ended, nothing renews it, still 'active'
EXPANSION = [
    (5, 4, (2025, 6, 1), (2026, 6, 1), 4000, 1, -1, False),
    (6, 4, (2026, 6, 1), (2027, 6, 1), 5000, 0, 5, False),  # renewed 1000 up
    (7, 4, (2026, 2, 1), (2027, 2, 1), 500, 0, -1, True),  # an expansion deal of a customer
]
CONTRACTION = [
    (8, 5, (2025, 7, 1), (2026, 7, 1), 5000, 1, -1, False),
    (9, 5, (2026, 7, 1), (2027, 7, 1), 4000, 0, 8, False),
]
EXPANSION_LAPSED = [
    (10, 6, (2025, 9, 1), (2026, 9, 1), 1000, 1, -1, False),
    (11, 6, (2026, 9, 1), (2027, 9, 1), 1000, 0, 10, False),
    (12, 6, (2025, 10, 1), (2026, 10, 1), 600, 0, -1, True),  # an expansion contract, in start ARR, not renewed
]


def _retention(contracts) -> dict:
    columns = list(zip(*contracts, strict=True))
    return retention(
        contract_id=np.array(columns[0]),
        account=np.array(columns[1]),
        start=np.array([_day(*d) for d in columns[2]]),
        end=np.array([_day(*d) for d in columns[3]]),
        cents=np.array(columns[4]) * 100,
        status=np.array(columns[5]),
        renews=np.array(columns[6]),
        is_expansion=np.array(columns[7]),
        first_day=_day(2026, 1, 1),
        last_day=_day(2026, 12, 31),
    )


@pytest.mark.parametrize(
    ("contracts", "grr", "nrr", "renewal_rate", "renewal_rate_by_value"),
    [
        pytest.param(RENEWED, 1.0, 1.0, 1.0, 1.0, id="renewed"),
        pytest.param(CHURNED, 0.0, 0.0, 0.0, 0.0, id="churned"),
        pytest.param(LAPSED, 0.0, 0.0, 0.0, 0.0, id="lapsed"),
        pytest.param(EXPANSION, 1.0, (4000 + 1000 + 500) / 4000, 1.0, 1.0, id="expansion"),
        pytest.param(CONTRACTION, 0.8, 0.8, 1.0, 1.0, id="contraction"),
        pytest.param(EXPANSION_LAPSED, 1000 / 1600, 1000 / 1600, 0.5, 1000 / 1600, id="expansion_lapsed"),
        # start ARR 1000+2000+3000+4000+5000+1000+600 = 16 600; churned 2000+3000+600; contraction
        # 1000; expansion 1000+500; ending: all seven that started in 2025, three of them renewed
        pytest.param(
            RENEWED + CHURNED + LAPSED + EXPANSION + CONTRACTION + EXPANSION_LAPSED,
            (16_600 - 5600 - 1000) / 16_600,
            (16_600 - 5600 - 1000 + 1500) / 16_600,
            4 / 7,
            (1000 + 4000 + 5000 + 1000) / 16_600,
            id="all",
        ),
    ],
)
def test_retention_and_renewal_rate(contracts, grr, nrr, renewal_rate, renewal_rate_by_value):
    result = _retention(contracts)
    assert result["gross_revenue_retention"] == pytest.approx(grr)
    assert result["net_revenue_retention"] == pytest.approx(nrr)
    assert result["renewal_rate"] == pytest.approx(renewal_rate)
    assert result["renewal_rate_by_value"] == pytest.approx(renewal_rate_by_value)


def test_retention_counts_expansion_contracts_in_start_arr_and_their_lapse_as_churn():
    result = _retention(EXPANSION_LAPSED)
    assert (result["start_arr"], result["churned_arr"], result["expansion_arr"]) == (1600.0, 600.0, 0.0)


# --- exits -----------------------------------------------------------------------------------


def test_recycled_later_sal_counts_leads_not_recycle_events(scoped):
    """Ann is rejected and recycled twice, then accepted: two recycle events, one lead that
    reached SAL later. Ben is recycled once and never accepted."""
    rep = MembershipFactory(workspace=scoped, role="sales_rep").user
    account = account_create(workspace=scoped, name="Ann's", domain="ann.example")
    ann = lead_create(workspace=scoped, email="ann@example.test", entered_at=at(1, 1), account=account)
    ben = lead_create(workspace=scoped, email="ben@example.test", entered_at=at(1, 1))
    for day in (2, 5):
        lead_stage_move(workspace=scoped, lead=ann, to_stage="mql", entered_at=at(1, day))
        lead_reject(workspace=scoped, lead=ann, actor=rep, reason="timing", entered_at=at(1, day + 1))
    lead_stage_move(workspace=scoped, lead=ann, to_stage="mql", entered_at=at(1, 10))
    lead_stage_move(workspace=scoped, lead=ann, to_stage="sal", entered_at=at(1, 11))
    lead_stage_move(workspace=scoped, lead=ben, to_stage="mql", entered_at=at(1, 2))
    lead_reject(workspace=scoped, lead=ben, actor=rep, reason="no_budget", entered_at=at(1, 3))
    recompute_workspace(workspace=scoped)
    exits = funnel_report(scoped)["exits"]
    assert (exits["rejected"], exits["recycled"], exits["recycled_later_sal"]) == (3, 3, 1)
    # only Ann's second recycle falls in this period, and she reached SAL after it
    later = funnel_report(scoped, filters=Filters(dt.date(2025, 1, 6), dt.date(2025, 1, 31)))["exits"]
    assert (later["recycled"], later["recycled_later_sal"]) == (1, 1)


def test_a_workspace_without_accounts_is_computed(scoped):
    lead_create(workspace=scoped, email="solo@example.test", entered_at=at(1, 1))
    recompute_workspace(workspace=scoped)
    rows = funnel_report(scoped, by="segment")["rows"]
    assert [(row["key"], row["stage"], row["entered"]) for row in rows[:2]] == [
        ("none", "touched", 1),
        ("none", "lead", 1),
    ]
    assert funnel_report(scoped, by="tier")["rows"][0]["key"] == "none"


# --- the horizon belongs to the cohort view ---------------------------------------------------


def test_a_horizon_with_the_period_view_is_refused(small):
    workspace, _ = small
    with pytest.raises(ReportError, match="horizon applies to the cohort view only"):
        funnel_report(workspace, view="period", horizon_days=7)
    with pytest.raises(CommandError, match="horizon applies to the cohort view only"):
        call_command(
            "report", "funnel", "--workspace", workspace.slug, "--view", "period", "--horizon", "7",
            stdout=io.StringIO(),
        )  # fmt: skip
    assert funnel_report(workspace, view="cohort", horizon_days=7)["filters"]["horizon"] == 7


def test_a_snapshot_from_before_exit_lead_still_answers(small):
    """Snapshots written by the previous engine have no exit_lead: the dashboards keep working
    (counting recycle events, as they did) until the next recompute replaces it."""
    from funnel.codec import decode, encode
    from funnel.models import Snapshot

    workspace, _ = small
    snapshot = Snapshot.objects.get(pk=latest_done(workspace).pk)
    arrays = dict(decode(bytes(snapshot.arrays)))
    del arrays["exit_lead"]
    Snapshot.objects.filter(pk=snapshot.pk).update(arrays=encode(arrays), finished_at=snapshot.finished_at)
    old = Snapshot.objects.get(pk=snapshot.pk)
    Snapshot.objects.filter(pk=old.pk).update(started_at=old.started_at - dt.timedelta(seconds=1))  # a new cache key
    assert funnel_report(workspace)["exits"]["recycled"] >= 0
