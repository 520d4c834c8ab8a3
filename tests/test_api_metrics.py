"""GET /api/v1/metrics/funnel/ and /attribution/ answer exactly what `manage.py report` prints
for the same options, from the latest snapshot; bad questions are 400, no snapshot is 409."""

import io
import json

import pytest
from django.core.management import call_command

from funnel.snapshots import recompute_workspace
from workspaces.scoping import workspace_scope

from .api_helpers import API, key_client
from .engine_data import build_history

FUNNEL_OPTIONS = [
    {},
    {"by": "channel"},
    {"by": "campaign", "view": "period"},
    {"view": "period", "from": "2025-06-15", "to": "2025-08-31"},
    {"horizon": "30"},
    {"by": "segment", "from": "2025-07-01", "horizon": "14.5"},
    {"by": "cohort_month", "to": "2025-09-30"},
    {"by": "owner"},
    {"by": "tier", "view": "cohort"},
]
ATTRIBUTION_OPTIONS = [
    {"model": "first_touch", "level": "lead"},
    {"model": "linear", "level": "revenue"},
    {"model": "last_touch", "level": "opportunity", "by": "campaign"},
    {"model": "w_shaped", "level": "opportunity", "from": "2025-06-15", "to": "2025-09-30"},
    {"model": "markov", "level": "revenue", "by": "channel"},
    {"model": "time_decay", "level": "lead", "by": "campaign", "from": "2025-07-01"},
    {"model": "position_based", "level": "revenue", "to": "2025-08-15"},
]


@pytest.fixture
def history(workspace):
    with workspace_scope(workspace):
        build_history(workspace, seed=7, n_leads=24)
        recompute_workspace(workspace=workspace)
    return workspace


@pytest.fixture
def snapshot(workspace):
    """A snapshot of a nearly empty workspace: enough for the questions that are refused."""
    with workspace_scope(workspace):
        build_history(workspace, seed=3, n_leads=2)
        return recompute_workspace(workspace=workspace)


@pytest.fixture
def api(workspace):
    return key_client(workspace, scope="read")


def report_command(report: str, workspace, options: dict) -> dict:
    args = ["report", report, "--workspace", workspace.slug, "--format", "json"]
    for name, value in options.items():
        args += [f"--{name}", value]
    out = io.StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def test_the_funnel_metrics_equal_the_report_command_for_every_option_set(history, api):
    for options in FUNNEL_OPTIONS:
        response = api.get(f"{API}/metrics/funnel/", options)
        assert response.status_code == 200, (options, response.content[:300])
        assert response.json() == report_command("funnel", history, options), options


def test_the_attribution_metrics_equal_the_report_command_for_every_option_set(history, api):
    for options in ATTRIBUTION_OPTIONS:
        response = api.get(f"{API}/metrics/attribution/", options)
        assert response.status_code == 200, (options, response.content[:300])
        assert response.json() == report_command("attribution", history, options), options


def test_the_metrics_carry_the_report_columns_and_when_they_were_computed(history, api):
    funnel = api.get(f"{API}/metrics/funnel/", {"by": "channel"}).json()
    assert set(funnel) >= {"computed_at", "snapshot", "filters", "rows"}
    assert funnel["filters"] == {"from": None, "to": None, "view": "cohort", "horizon": None, "by": "channel"}
    assert list(funnel["rows"][0]) == [
        "breakdown",
        "key",
        "stage",
        "entered",
        "reached",
        "next_stage_conversion",
        "cumulative_conversion",
        "median_days_to_next",
        "p75_days_to_next",
    ]
    attribution = api.get(f"{API}/metrics/attribution/", {"model": "linear", "level": "lead"}).json()
    assert list(attribution["rows"][0]) == ["model", "level", "by", "key", "name", "conversions", "value"]
    assert attribution["computed_at"] == funnel["computed_at"]


def test_the_metrics_follow_the_newest_snapshot(history, api):
    first = api.get(f"{API}/metrics/funnel/").json()["snapshot"]
    with workspace_scope(history):
        newer = recompute_workspace(workspace=history)
    assert api.get(f"{API}/metrics/funnel/").json()["snapshot"] == newer.pk != first


@pytest.mark.parametrize(
    ("path", "params", "field", "words"),
    [
        ("funnel", {"colour": "red"}, "colour", "Unknown parameter"),
        ("funnel", {"model": "linear"}, "model", "Known: from, to, view, horizon, by"),
        ("attribution", {"model": "linear", "level": "lead", "view": "cohort"}, "view", "Unknown parameter"),
        ("attribution", {"level": "lead"}, "model", "required"),
        ("attribution", {"model": "linear"}, "level", "required"),
        ("funnel", {"from": "01/31/2026"}, "from", "YYYY-MM-DD"),
        ("funnel", {"horizon": "a week"}, "horizon", "number of days"),
        ("funnel", {"horizon": "-3"}, "detail", "0 or more"),
        ("funnel", {"horizon": "nan"}, "horizon", "number of days"),
        ("funnel", {"horizon": "inf"}, "horizon", "number of days"),
        ("funnel", {"horizon": "1e999"}, "horizon", "number of days"),
        ("funnel", {"view": "sideways"}, "detail", "cohort, period"),
        ("funnel", {"by": "colour"}, "detail", "Unknown breakdown"),
        ("funnel", {"from": "2025-09-01", "to": "2025-08-01"}, "detail", "after"),
        (
            "attribution",
            {"model": "markov", "level": "lead", "by": "campaign"},
            "detail",
            "markov model is channel-level",
        ),
        ("attribution", {"model": "influenced", "level": "lead"}, "detail", "Unknown model"),
        ("attribution", {"model": "linear", "level": "pipeline"}, "detail", "Unknown level"),
        ("attribution", {"model": "linear", "level": "lead", "by": "segment"}, "detail", "channel or campaign"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 20 else None,
)
def test_a_bad_metrics_question_is_400_with_the_message(snapshot, api, path, params, field, words):
    response = api.get(f"{API}/metrics/{path}/", params)
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert field in body, body
    assert words in " ".join(body[field]), body


@pytest.mark.parametrize(
    ("path", "params"), [("funnel", {}), ("attribution", {"model": "linear", "level": "lead"})], ids=["funnel", "attr"]
)
def test_without_a_snapshot_the_metrics_are_409_saying_how_to_make_one(workspace, api, path, params):
    response = api.get(f"{API}/metrics/{path}/", params)
    assert response.status_code == 409
    assert "recompute" in response.json()["detail"]
