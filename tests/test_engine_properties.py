"""Property tests of the engine (hypothesis): row order does not matter, workspaces do not leak
into each other, and every conversion's credit sums to 1 under every model and level."""

import copy
import datetime as dt

import numpy as np
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.engine import CREDIT_MODELS, KIND_CODES, LEVELS, STAGE_CODES, Inputs, compute, load_inputs
from funnel.reports import Filters, attribution_report, funnel_report
from funnel.snapshots import recompute_workspace
from workspaces.scoping import workspace_scope

from .engine_data import build_history
from .factories import WorkspaceFactory

DAY = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01 UTC
NOW = T0 + 4000 * DAY
PARAMETERS = {"timezone": "America/New_York", "lookback_days": 365, "half_life_days": 7.0}


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The random history of one workspace, read by ``load_inputs`` once."""
    with django_db_blocker.unblock(), transaction.atomic():
        workspace = WorkspaceFactory(slug="props", timezone="America/New_York")
        with workspace_scope(workspace):
            build_history(workspace, seed=7, n_leads=45)
            inputs = load_inputs(workspace)
        yield workspace, inputs
        transaction.set_rollback(True)


def _canonical(arrays: dict) -> dict:
    """The snapshot arrays with order-free parts sorted (exits, contracts, credit rows)."""
    result = dict(arrays)
    exits = np.lexsort((arrays["exit_later_sal"], arrays["exit_reason"], arrays["exit_time"], arrays["exit_stage"]))
    for name in ("exit_stage", "exit_reason", "exit_time", "exit_later_sal"):
        result[name] = arrays[name][exits]
    contracts = np.argsort(arrays["contract_id"])
    for name in [n for n in arrays if n.startswith("contract_")]:
        result[name] = arrays[name][contracts]
    credit_keys = ("credit_level", "credit_model", "credit_day", "credit_channel", "credit_campaign")
    keep = (arrays["credit_conversions"] != 0) | (arrays["credit_value"] != 0)
    order = np.lexsort([arrays[k][keep] for k in reversed(credit_keys)])
    for name in [n for n in arrays if n.startswith("credit_")]:
        result[name] = arrays[name][keep][order]
    return result


def _compute(inputs: Inputs):
    return compute(copy.deepcopy(inputs), now_ms=NOW, **PARAMETERS)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_permuting_the_input_rows_changes_nothing(loaded, seed):
    _, inputs = loaded
    expected_arrays, expected_labels = _compute(inputs)
    rng = np.random.default_rng(seed)
    shuffled = copy.deepcopy(inputs)
    for table in ("leads", "events", "touches", "opportunities", "accounts", "targets", "contracts"):
        columns = getattr(shuffled, table)
        order = rng.permutation(len(next(iter(columns.values()))))
        setattr(shuffled, table, {name: values[order] for name, values in columns.items()})
    shuffled.campaigns = [shuffled.campaigns[i] for i in rng.permutation(len(shuffled.campaigns))]
    actual_arrays, actual_labels = _compute(shuffled)
    assert actual_labels == expected_labels
    expected, actual = _canonical(expected_arrays), _canonical(actual_arrays)
    assert set(actual) == set(expected)
    for name, values in expected.items():
        if values.dtype.kind == "f":
            np.testing.assert_allclose(actual[name], values, rtol=1e-9, atol=1e-9, err_msg=name)
        else:
            np.testing.assert_array_equal(actual[name], values, err_msg=name)


def _reports(workspace) -> list:
    out = [funnel_report(workspace, by=by) for by in (None, "channel", "campaign", "owner", "tier")]
    out.append(funnel_report(workspace, filters=Filters(dt.date(2025, 9, 1), dt.date(2026, 3, 31)), view="period"))
    out += [
        attribution_report(workspace, model=model, level=level, by="channel")
        for model in ("first_touch", "w_shaped", "markov")
        for level in LEVELS
    ]
    for report in out:  # which snapshot and when are expected to differ
        report.pop("snapshot"), report.pop("computed_at")
    return out


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_leads=st.integers(3, 15))
def test_another_workspace_changing_does_not_move_a_workspace_s_numbers(loaded, db, seed, n_leads):
    workspace, _ = loaded
    with transaction.atomic():
        with workspace_scope(workspace):
            recompute_workspace(workspace=workspace)
            before = _reports(workspace)
        other = WorkspaceFactory(slug=f"other{seed}", timezone="UTC")
        with workspace_scope(other):
            build_history(other, seed=seed, n_leads=n_leads)
            recompute_workspace(workspace=other)
        with workspace_scope(workspace):
            recompute_workspace(workspace=workspace)
            assert _reports(workspace) == before
        transaction.set_rollback(True)


# --- synthetic inputs: each conversion alone on its day, so a day's credit is one conversion's


@st.composite
def synthetic_inputs(draw):
    n_leads = draw(st.integers(1, 12))
    n_channels = draw(st.integers(1, 4))
    accounts = [101, 102, 103]
    lead_account = draw(st.lists(st.sampled_from([-1, *accounts]), min_size=n_leads, max_size=n_leads))
    converted = draw(st.lists(st.booleans(), min_size=n_leads, max_size=n_leads))
    events = {"lead": [], "stage": [], "time": [], "reason": [], "id": []}

    def event(lead, stage, time):
        events["lead"].append(lead)
        events["stage"].append(STAGE_CODES[stage])
        events["time"].append(time)
        events["reason"].append(0)
        events["id"].append(len(events["id"]) + 1)

    opportunities = {k: [] for k in ("id", "account", "lead", "kind", "closed", "cents", "created", "closed_at")}
    for i in range(n_leads):
        lead_id = i + 1
        event(lead_id, "touched", T0 + i * DAY - 5 * DAY)
        if converted[i]:
            event(lead_id, "lead", T0 + i * DAY + draw(st.integers(0, 20)) * 3_600_000)
            if lead_account[i] > 0 and draw(st.booleans()):
                j = len(opportunities["id"])
                opportunities["id"].append(500 + j)
                opportunities["account"].append(lead_account[i])
                opportunities["lead"].append(lead_id)
                opportunities["kind"].append(KIND_CODES["new_business"])
                closed = draw(st.sampled_from([0, 1, 2]))
                opportunities["closed"].append(closed)
                opportunities["cents"].append(draw(st.integers(0, 10_000_000)))
                opportunities["created"].append(T0 + (100 + j) * DAY + 12 * 3_600_000)
                opportunities["closed_at"].append(T0 + (200 + j) * DAY + 12 * 3_600_000 if closed else -1)
    touch_rows = draw(
        st.lists(
            st.tuples(st.integers(0, n_leads - 1), st.integers(-420 * 24, 250 * 24), st.integers(0, n_channels - 1)),
            max_size=40,
        )
    )
    ids = draw(st.permutations(list(range(1, len(touch_rows) + 1))))
    campaign_of = draw(st.lists(st.sampled_from([-1, 11, 12]), min_size=len(touch_rows), max_size=len(touch_rows)))
    touches = {
        "lead": [r[0] + 1 for r in touch_rows],
        "account": [lead_account[r[0]] for r in touch_rows],
        "channel": [r[2] + 1 for r in touch_rows],
        "campaign": campaign_of,
        "time": [T0 + r[1] * 3_600_000 for r in touch_rows],
        "id": ids,
    }

    def arrays(columns):
        return {name: np.array(values, dtype=np.int64) for name, values in columns.items()}

    campaign = {"actual_cost": 0, "external_id": "", "start_date": dt.date(2026, 1, 1), "end_date": None}
    return Inputs(
        leads=arrays({"id": range(1, n_leads + 1), "account": lead_account, "owner": [-1] * n_leads}),
        events=arrays(events),
        touches=arrays(touches),
        opportunities=arrays(opportunities),
        accounts=arrays({"id": accounts, "segment": [1, 2, 3]}),
        targets=arrays({"account": [], "tier": []}),
        contracts=arrays({k: [] for k in ("id", "account", "start", "end", "cents", "status", "renews", "kind")}),
        campaigns=[
            {"id": 11, "channel_id": 1, "name": "c11"} | campaign,
            {"id": 12, "channel_id": 2, "name": "c12"} | campaign,
        ],
        channels=[{"id": c + 1, "slug": f"ch{c}", "name": f"Ch {c}"} for c in range(n_channels)],
    )


@settings(max_examples=60, deadline=None)
@given(inputs=synthetic_inputs(), lookback=st.sampled_from([0, 30, 365]))
def test_every_conversion_s_credits_sum_to_one_under_every_model_and_level(inputs, lookback):
    opportunities = inputs.opportunities
    conversion_days = {
        "lead": sorted((inputs.events["time"][inputs.events["stage"] == STAGE_CODES["lead"]] // DAY).tolist()),
        "opportunity": sorted((opportunities["created"] // DAY).tolist()),
        "revenue": sorted((opportunities["closed_at"][opportunities["closed"] == 1] // DAY).tolist()),
    }
    values = {
        "lead": dict.fromkeys(conversion_days["lead"], 1.0),
        "opportunity": dict(zip(conversion_days["opportunity"], opportunities["cents"] / 100, strict=True)),
        "revenue": dict(
            zip(
                conversion_days["revenue"],
                opportunities["cents"][opportunities["closed"] == 1] / 100,
                strict=True,
            )
        ),
    }
    arrays, _ = compute(inputs, timezone="UTC", lookback_days=lookback, half_life_days=7.0, now_ms=NOW)
    for level_code, level in enumerate(LEVELS):
        for model_code, model in enumerate(CREDIT_MODELS):
            if model == "influenced":
                continue
            rows = (arrays["credit_level"] == level_code) & (arrays["credit_model"] == model_code)
            per_day: dict[int, list[float]] = {}
            for day, conversions, value in zip(
                arrays["credit_day"][rows],
                arrays["credit_conversions"][rows],
                arrays["credit_value"][rows],
                strict=True,
            ):
                per_day.setdefault(int(day), [0.0, 0.0])
                per_day[int(day)][0] += conversions
                per_day[int(day)][1] += value
            assert sorted(per_day) == sorted(values[level]), (level, model)
            for day, (conversions, value) in per_day.items():
                assert conversions == pytest.approx(1.0), (level, model, day)
                assert value == pytest.approx(values[level][day], abs=1e-6), (level, model, day)
