"""The demo generator's history is a history the stage services could have written."""

import datetime as dt

import numpy as np
import pytest

from attribution.choices import DEFAULT_CHANNELS
from funnel.demo.shape import CHANNELS, STAGES, TOUCH_TYPES, demo_shape
from funnel.stages import LEAD_TRANSITIONS

TODAY = dt.date(2026, 11, 22)
DEAL_STAGES = {"opportunity", "won", "lost", "renewed", "churned"}


@pytest.fixture(scope="module")
def shape():
    return demo_shape(leads=1500, seed=7, today=TODAY)


def test_every_ledger_obeys_the_transition_table(shape):
    events, opps = shape.events, shape.opportunities
    lead_of_opp = opps["lead"].to_numpy()
    for lead, rows in events.groupby("lead", sort=True):
        current, at = None, None
        stages = [STAGES[s] for s in rows["stage"]]
        times = rows["entered_at"].tolist()
        for i, (stage, when, opp) in enumerate(zip(stages, times, rows["opportunity"], strict=True)):
            assert stage in LEAD_TRANSITIONS[current], (lead, current, stage)
            assert at is None or when >= at, (lead, stages)
            if current == "rejected":
                assert (stage, when) == ("recycled", at)
            if stage == "rejected":
                assert i + 1 < len(stages) and stages[i + 1] == "recycled"
            if stage in DEAL_STAGES:
                assert opp >= 0 and lead_of_opp[opp] == lead
            else:
                assert opp == -1
            current, at = stage, when
        assert STAGES[shape.leads["stage"].iat[lead]] == current
        assert shape.leads["stage_entered_at"].iat[lead] == at
    assert events["entered_at"].max() < shape.horizon
    assert set(events["lead"]) == set(range(len(shape.leads)))


def test_from_stage_is_the_previous_event(shape):
    e = shape.events
    first = np.r_[True, e["lead"].to_numpy()[1:] != e["lead"].to_numpy()[:-1]]
    assert (e["from_stage"].to_numpy()[first] == -1).all()
    assert (e["from_stage"].to_numpy()[~first] == e["stage"].to_numpy()[:-1][~first[1:]]).all()


def test_the_same_seed_and_today_give_the_same_frames_and_another_seed_does_not(shape):
    again = demo_shape(leads=1500, seed=7, today=TODAY)
    for name in ("accounts", "campaigns", "leads", "touches", "events", "opportunities", "contracts"):
        assert getattr(shape, name).equals(getattr(again, name)), name
    other = demo_shape(leads=1500, seed=8, today=TODAY)
    assert not shape.touches.equals(other.touches)
    assert shape.opportunities["amount"].sum() != other.opportunities["amount"].sum()


def test_accounts_segments_and_the_abm_list(shape):
    a = shape.accounts
    assert set(a["segment"]) == {"smb", "mid_market", "enterprise"}
    assert a["domain"].is_unique and (a["domain"] == a["domain"].str.lower()).all()
    smb = a.loc[a["segment"] == "smb", "employee_count"]
    enterprise = a.loc[a["segment"] == "enterprise", "employee_count"]
    assert smb.max() <= 200 <= 2000 <= enterprise.min()
    members = shape.target_members
    assert abs(len(members) - 0.05 * len(a)) <= 1
    assert set(members["tier"]) == {1, 2, 3} and members["account"].is_unique


def test_campaigns_on_every_channel_with_statuses_and_costs(shape):
    c = shape.campaigns
    assert set(c["channel"]) == set(range(len(DEFAULT_CHANNELS)))
    assert set(c["status"]) == {"planned", "active", "closed"}
    assert (c.loc[c["status"] == "planned", "actual_cost"] == 0).all()
    assert (c.loc[c["status"] == "closed", "actual_cost"] > 0).all()
    assert (c["end_date"] >= c["start_date"]).all() and c["external_id"].is_unique


def test_leads_emails_are_unique_at_their_accounts_domain(shape):
    p = shape.leads
    assert p["email"].is_unique
    domains = shape.accounts["domain"].to_numpy()[p["account"].to_numpy()]
    assert all(email.endswith("@" + domain) for email, domain in zip(p["email"], domains, strict=True))
    assert set(p["owner"]) == {0, 1}


def test_touches_about_ten_per_lead_starting_at_the_entry(shape):
    t, p = shape.touches, shape.leads
    assert 8 <= len(t) / len(p) <= 12
    assert t["occurred_at"].max() < shape.horizon
    first_touch = t.groupby("lead")["occurred_at"].min()
    first_event = shape.events.groupby("lead")["entered_at"].min()
    assert (first_touch.sort_index().to_numpy() == first_event.sort_index().to_numpy()).all()
    # The capture: a form fill at the moment of the lead's entry into 'lead'.
    lead_entry = shape.events[shape.events["stage"] == STAGES.index("lead")]
    fills = t[t["type"] == TOUCH_TYPES.index("form_fill")]
    captured = set(zip(fills["lead"], fills["occurred_at"], strict=True))
    assert all(pair in captured for pair in zip(lead_entry["lead"], lead_entry["entered_at"], strict=True))
    assert (t["account"].to_numpy() == p["account"].to_numpy()[t["lead"].to_numpy()]).all()
    with_campaign = t[t["campaign"] >= 0]
    campaign_channel = shape.campaigns["channel"].to_numpy()[with_campaign["campaign"].to_numpy()]
    assert (campaign_channel == with_campaign["channel"].to_numpy()).all()
    assert (t["campaign"] < 0).any()
    # Leads that converted were touched more.
    per_lead = t.groupby("lead").size()
    stage = p["stage"].to_numpy()
    assert per_lead[stage == STAGES.index("touched")].mean() < per_lead[stage == STAGES.index("won")].mean()


def test_touch_types_fit_their_channel(shape):
    t = shape.touches
    paid = t[t["channel"] == CHANNELS.index("paid_search")]
    assert {TOUCH_TYPES[x] for x in paid["type"]} <= {"ad_click", "web_visit", "form_fill"}
    email = t[t["channel"] == CHANNELS.index("email")]
    assert {TOUCH_TYPES[x] for x in email["type"]} <= {"email_click", "form_fill"}


def test_the_pipeline_has_every_kind_of_path(shape):
    stages = {STAGES[s] for s in shape.events["stage"]}
    assert {"touched", "lead", "mql", "sal", "opportunity", "won", "renewed", "churned", "lost"} <= stages
    assert {"rejected", "recycled", "disqualified"} <= stages
    current = np.array(STAGES)[shape.leads["stage"].to_numpy()]
    assert 0.2 <= (current == "touched").mean() <= 0.4
    # Re-qualified after a rejection; small-ticket leads straight to sales.
    e = shape.events
    prev = np.where(e["from_stage"] >= 0, np.array(STAGES)[np.maximum(e["from_stage"], 0)], "")
    here = np.array(STAGES)[e["stage"]]
    assert ((prev == "recycled") & (here == "mql")).any()
    assert ((prev == "lead") & (here == "sal")).any()


def test_deals_and_contracts(shape):
    o, k = shape.opportunities, shape.contracts
    assert set(o["kind"]) == {"new_business", "renewal"}
    closed = o["stage"].isin(["won", "lost"])
    assert (o.loc[closed, "closed_at"] >= o.loc[closed, "created_at"]).all()
    assert (o.loc[~closed, "closed_at"] == -1).all()
    assert (o.loc[o["stage"] == "lost", "lost_reason"] != "").all()
    assert (o.loc[o["stage"] != "lost", "lost_reason"] == "").all()
    median = (
        o[o["kind"] == "new_business"]
        .groupby(shape.accounts["segment"].to_numpy()[o.loc[o["kind"] == "new_business", "account"].to_numpy()])[
            "amount"
        ]
        .median()
    )
    assert median["smb"] < median["enterprise"]
    # Every won deal has its contract; a contract that ended before today was renewed or churned.
    assert sorted(k["opportunity"]) == sorted(np.flatnonzero((o["stage"] == "won").to_numpy()))
    ended = k["end_date"] < np.datetime64(TODAY)
    assert set(k.loc[ended, "status"]) <= {"renewed", "churned"}
    renewed = k[k["status"] == "renewed"]
    assert set(renewed.index) == set(k.loc[k["renews"] >= 0, "renews"])
    successor = k[k["renews"] >= 0]
    assert (successor["start_date"].to_numpy() == k["end_date"].to_numpy()[successor["renews"].to_numpy()]).all()
    assert (k["end_date"] > k["start_date"]).all()


def test_no_leads_gives_empty_frames():
    empty = demo_shape(leads=0, seed=1, today=TODAY)
    assert set(empty.table_sizes().values()) == {0}
