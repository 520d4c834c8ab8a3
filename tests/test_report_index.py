"""The prepared snapshot (``funnel.reports.Prepared``) answers exactly what the straightforward
computation over the raw arrays answers (``metrics.funnel_table`` and masks over every row), for
random snapshots in time zones with and without daylight saving time, periods that start or end
on the days the clocks change, ties, out-of-order events and gaps equal to the horizon; the
process cache reads a snapshot's arrays once; the codec's views equal ``np.load``."""

import datetime as dt
import io
import zlib
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from funnel import codec, reports
from funnel.engine import CREDIT_MODELS, LEVELS, NO_CAMPAIGN, NO_TOUCH, STAGE_CODES
from funnel.metrics import MISSING, Period, funnel_table, reached_times
from funnel.models import Snapshot
from funnel.reports import BREAKDOWNS, Filters, Prepared, _breakdown_codes, _Clock
from funnel.snapshots import latest_done, recompute_workspace
from workspaces.scoping import workspace_scope

from .engine_data import build_history

DAY = 86_400_000
ZONES = (
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Lord_Howe",  # half-hour daylight saving
    "America/Santiago",  # clocks change at midnight
    "Pacific/Apia",  # skipped a whole day in 2011
    "America/St_Johns",
)
EXIT_STAGES = ("rejected", "recycled", "disqualified", "lost", "churned")


def _local_midnight(day: dt.date, zone: str) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone)).timestamp() * 1000)


def _snapshot(rng: np.random.Generator, n: int, zone: str, first_day: dt.date) -> tuple[dict, dict]:
    """Snapshot arrays of the engine's shape, with awkward times: on local midnights, tied
    across stages, out of order, and apart by whole days."""
    start = _local_midnight(first_day, zone)
    span = 800 * DAY
    first_entry = np.full((n, 7), MISSING, dtype=np.int64)
    times = start + rng.integers(0, span, n)
    for s in range(7):
        recorded = rng.random(n) < (0.9, 0.8, 0.5, 0.4, 0.3, 0.2, 0.1)[s]
        first_entry[recorded, s] = times[recorded]
        step = rng.choice([0, DAY, 7 * DAY, 30 * DAY + DAY // 2, -DAY], size=n, p=[0.1, 0.2, 0.2, 0.1, 0.4])
        jitter = rng.integers(0, 20 * DAY, n) * (rng.random(n) < 0.6)
        times = times + step + jitter
    midnights = np.array([_local_midnight(first_day + dt.timedelta(days=int(d)), zone) for d in range(0, 800, 37)])
    on_midnight = rng.random(n) < 0.05
    first_entry[on_midnight, 0] = rng.choice(midnights, int(on_midnight.sum()))
    n_channels, n_campaigns = 4, 9
    key_channel = rng.integers(-1, n_channels, n).astype(np.int32)
    key_campaign = np.where(key_channel < 0, -1, rng.integers(-1, n_campaigns, n)).astype(np.int32)
    cohort = np.minimum.reduce(first_entry, axis=1)
    cohort_day = np.where(cohort != MISSING, cohort // DAY, -1).astype(np.int32)
    n_exits = n // 2
    exit_time = start + rng.integers(0, span, n_exits)
    exit_time[: max(1, n_exits // 50)] = MISSING
    if n_exits >= 10:
        exit_time[-5:] = midnights[:5]
    n_credit = 3 * n
    credit_campaign = rng.integers(-2, n_campaigns, n_credit).astype(np.int32)
    pairs_day = (start // DAY + rng.integers(0, 800, 2 * n)) & 0xFFFFF
    arrays = {
        "lead_id": np.arange(1, n + 1, dtype=np.int64),
        "first_entry": first_entry,
        "key_channel": key_channel,
        "key_campaign": key_campaign,
        "key_segment": rng.integers(0, 4, n).astype(np.int32),
        "key_tier": rng.integers(0, 4, n).astype(np.int32),
        "key_owner": rng.choice(np.array([-1, 3, 17, 4]), n).astype(np.int64),
        "key_cohort_day": cohort_day,
        "exit_stage": rng.choice([STAGE_CODES[s] for s in EXIT_STAGES], n_exits).astype(np.int64),
        "exit_reason": rng.integers(0, 8, n_exits).astype(np.int64),
        "exit_time": exit_time,
        "exit_later_sal": rng.random(n_exits) < 0.3,
        "exit_lead": rng.integers(0, n, n_exits).astype(np.int32),
        "target_accounts": np.array([40]),
        "target_touch_account_day": np.unique((rng.integers(0, 40, 2 * n) << 20) | pairs_day),
        "credit_level": rng.integers(0, len(LEVELS), n_credit).astype(np.int8),
        "credit_model": rng.integers(0, len(CREDIT_MODELS), n_credit).astype(np.int8),
        "credit_day": (start // DAY + rng.integers(0, 800, n_credit)).astype(np.int32),
        "credit_channel": np.where(credit_campaign == NO_TOUCH, -1, rng.integers(0, n_channels, n_credit)).astype(
            np.int32
        ),
        "credit_campaign": credit_campaign,
        "credit_conversions": rng.random(n_credit) / 3,
        "credit_value": rng.random(n_credit) * 1e4 / 7,
    }
    for name in ("account", "start", "end", "cents", "status", "renews", "id", "kind"):
        arrays[f"contract_{name}"] = np.zeros(0, dtype=np.int64)
    labels = {
        "channels": [{"id": i + 1, "slug": f"ch{i}", "name": f"Channel {i}"} for i in range(n_channels)],
        "campaigns": [{"id": i + 1, "key": f"c{i}", "name": f"Campaign {i}"} for i in range(n_campaigns)],
        "segments": ["smb", "mid_market", "enterprise"],
    }
    return arrays, labels


def _periods(rng: np.random.Generator, first_day: dt.date, zone: str) -> list[Filters]:
    tz = ZoneInfo(zone)
    changes = []  # days on which the clocks change
    day = first_day
    for _ in range(900):
        if (
            dt.datetime.combine(day, dt.time(12), tzinfo=tz).utcoffset()
            != dt.datetime.combine(day + dt.timedelta(days=1), dt.time(12), tzinfo=tz).utcoffset()
        ):
            changes += [day, day + dt.timedelta(days=1)]
        day += dt.timedelta(days=1)
    periods = [Filters(), Filters(first_day + dt.timedelta(days=100)), Filters(None, first_day + dt.timedelta(days=50))]
    periods += [Filters(dt.date(2040, 1, 1), dt.date(2040, 2, 1)), Filters(dt.date(1990, 1, 1), dt.date(1990, 1, 1))]
    for change in changes[:4]:
        periods += [Filters(change, change), Filters(change, change + dt.timedelta(days=40)), Filters(None, change)]
    for _ in range(4):
        a, b = sorted(int(x) for x in rng.integers(-20, 830, 2))
        periods.append(Filters(first_day + dt.timedelta(days=a), first_day + dt.timedelta(days=b)))
    return periods


@pytest.mark.parametrize(
    ("zone", "n"),
    [("UTC", 1), ("UTC", 40), *((zone, 500) for zone in ZONES if zone not in ("Europe/London", "America/St_Johns"))],
)
def test_the_prepared_funnel_equals_the_funnel_table(zone, n):
    rng = np.random.default_rng(zlib.crc32(f"{zone} {n}".encode()))
    first_day = dt.date(2010, 3, 1) if zone == "Pacific/Apia" else dt.date(2024, 2, 20)
    arrays, labels = _snapshot(rng, n, zone, first_day)
    prep = Prepared(arrays, labels, zone)
    horizons = [0.0, 7.0, 30.5]
    for i, filters in enumerate(_periods(rng, first_day, zone)):
        period = filters.period(zone)
        views = (("cohort", None), ("period", None), ("cohort", horizons[i % 3]))
        overall = {
            view: funnel_table(
                arrays["first_entry"], np.zeros(n, np.int64), 1, period=period, view=view[0], horizon_days=view[1]
            )
            for view in views
        }
        for by in (None, *BREAKDOWNS):
            code, keys = _breakdown_codes(arrays, labels, by)
            n_keys = max(len(keys), int(code.max(initial=-1)) + 1)
            np.testing.assert_array_equal(prep.breakdowns[by].present, np.bincount(code, minlength=n_keys) > 0)
            for view, horizon in views:
                where = (zone, n, filters, by, view, horizon)
                expected = funnel_table(
                    arrays["first_entry"], code, n_keys, period=period, view=view, horizon_days=horizon
                )
                actual = prep.funnel(by, period, view, horizon)
                for name, values in expected.items():
                    np.testing.assert_array_equal(actual[name], values, err_msg=f"{name} {where}")
                whole = overall[(view, horizon)]
                np.testing.assert_array_equal(actual["overall"]["entered"], whole["entered"][0], str(where))
                np.testing.assert_array_equal(
                    actual["overall"]["next_stage_conversion"], whole["next_stage_conversion"][0], str(where)
                )


def _exits(arrays: dict, period: Period) -> dict:
    """The exits as counted before: masks over every exit."""
    inside = period.contains(arrays["exit_time"])
    stage, reason = arrays["exit_stage"][inside], arrays["exit_reason"][inside]
    names = {code: name for name, code in reports.REASON_CODES.items()}

    def by_reason(stage_name):
        codes, counts = np.unique(reason[stage == STAGE_CODES[stage_name]], return_counts=True)
        return {names.get(int(c), "none"): int(k) for c, k in zip(codes, counts, strict=True)}

    recycled = stage == STAGE_CODES["recycled"]
    return {
        "rejected": int((stage == STAGE_CODES["rejected"]).sum()),
        "rejected_by_reason": by_reason("rejected"),
        "recycled": int(recycled.sum()),
        "recycled_later_sal": len(np.unique(arrays["exit_lead"][inside][recycled & arrays["exit_later_sal"][inside]])),
        "disqualified": int((stage == STAGE_CODES["disqualified"]).sum()),
        "lost": int((stage == STAGE_CODES["lost"]).sum()),
        "lost_by_reason": by_reason("lost"),
        "churned": int((stage == STAGE_CODES["churned"]).sum()),
    }


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Australia/Lord_Howe"])
def test_exits_targets_credit_and_first_touch_counts_equal_the_masks_over_every_row(zone):
    rng = np.random.default_rng(11)
    first_day = dt.date(2024, 2, 20)
    arrays, labels = _snapshot(rng, 900, zone, first_day)
    prep = Prepared(arrays, labels, zone)
    reached = reached_times(arrays["first_entry"])
    pairs = arrays["target_touch_account_day"]
    for filters in _periods(rng, first_day, zone):
        period = filters.period(zone)
        assert prep.exits(period) == _exits(arrays, period), filters
        first, last = filters.day_range()
        in_range = np.ones(len(pairs), dtype=bool)
        if first is not None:
            in_range &= (pairs & 0xFFFFF) >= first
        if last is not None:
            in_range &= (pairs & 0xFFFFF) <= last
        assert prep.target_accounts_touched(first, last) == len(np.unique(pairs[in_range] >> 20))
        counts, offset = prep.first_touch
        entered = counts.query(*prep.clock.bounds(period))
        for stage in ("lead", "mql"):
            chosen = period.contains(reached[:, reports.FUNNEL_STAGES.index(stage)]) & (arrays["key_campaign"] >= 0)
            expected = np.bincount(arrays["key_campaign"][chosen], minlength=len(labels["campaigns"]))
            np.testing.assert_array_equal(
                entered[reports.FUNNEL_STAGES.index(stage), offset : offset + len(labels["campaigns"])], expected
            )
        for level in LEVELS:
            for model in CREDIT_MODELS:
                select = (arrays["credit_level"] == LEVELS.index(level)) & (
                    arrays["credit_model"] == CREDIT_MODELS.index(model)
                )
                if first is not None:
                    select &= arrays["credit_day"] >= first
                if last is not None:
                    select &= arrays["credit_day"] <= last
                rows = prep.credit_rows(level, model, first, last)
                campaign = arrays["credit_campaign"][select]
                code = np.where(campaign == NO_TOUCH, 0, np.where(campaign == NO_CAMPAIGN, 1, campaign + 2))
                got = np.where(
                    rows["campaign"] == NO_TOUCH, 0, np.where(rows["campaign"] == NO_CAMPAIGN, 1, rows["campaign"] + 2)
                )
                for name in ("conversions", "value"):  # the same sums, added in the same order
                    np.testing.assert_array_equal(
                        np.bincount(got, rows[name], minlength=11),
                        np.bincount(code, arrays[f"credit_{name}"][select], minlength=11),
                    )
                    np.testing.assert_array_equal(
                        np.bincount(rows["channel"] + 1, rows[name], minlength=5),
                        np.bincount(
                            arrays["credit_channel"][select] + 1, arrays[f"credit_{name}"][select], minlength=5
                        ),
                    )


@pytest.mark.parametrize("zone", ZONES)
def test_day_codes_of_many_instants_are_a_binary_search_over_the_midnights(zone):
    rng = np.random.default_rng(3)
    start = _local_midnight(dt.date(2010, 1, 1), zone)
    times = start + rng.integers(0, 6000 * DAY, 120_000)
    times[:2000] = np.array([_local_midnight(dt.date(2010, 1, 1) + dt.timedelta(days=d), zone) for d in range(2000)])
    times[2000:4000] = times[:2000] - 1
    clock = _Clock(times, ZoneInfo(zone))
    assert clock._window is not None  # the gathers, not the binary search
    np.testing.assert_array_equal(clock.code(times), np.searchsorted(clock.midnights, times, side="right"))
    for day in (dt.date(2010, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(-3, 6003, 400)):
        period = Filters(day, day + dt.timedelta(days=int(rng.integers(0, 90)))).period(zone)
        low, high = clock.bounds(period)
        codes = clock.code(times)
        np.testing.assert_array_equal((codes >= low) & (codes < high), period.contains(times), err_msg=str(day))


def test_codec_views_equal_np_load():
    rng = np.random.default_rng(5)
    arrays = {
        "wide": rng.integers(0, 1 << 40, (1000, 7)),
        "empty": np.zeros(0, np.int8),
        "empty2d": np.zeros((0, 7), np.int64),
        "flags": rng.random(333) > 0.5,
        "fortran": np.asfortranarray(rng.random((5, 3))),
        "one": np.array([3]),
        "floats": rng.random(100_000).astype(np.float32),
    }
    payload = codec.encode(arrays)
    decoded = codec.decode(payload)
    view = memoryview(payload)
    count = int.from_bytes(view[5:9], "big")
    lengths = [int.from_bytes(view[9 + 8 * i : 17 + 8 * i], "big") for i in range(count)]
    offset, raw = 9 + 8 * count, b""
    for length in lengths:
        raw += zlib.decompress(view[offset : offset + length])
        offset += length
    with np.load(io.BytesIO(raw)) as loaded:
        assert set(decoded) == set(loaded.files) == set(arrays)
        for name in arrays:
            assert decoded[name].dtype == loaded[name].dtype and decoded[name].shape == loaded[name].shape
            np.testing.assert_array_equal(decoded[name], loaded[name])


def test_the_reports_read_a_snapshot_s_arrays_once_and_follow_the_newest(scoped, monkeypatch):
    workspace = scoped
    build_history(workspace, seed=3, n_leads=10)
    first = recompute_workspace(workspace=workspace)
    reports.clear_cache()
    decoded = []
    real = reports.decode
    monkeypatch.setattr(reports, "decode", lambda payload: decoded.append(1) or real(payload))

    assert "arrays" in latest_done(workspace).get_deferred_fields()
    answer = reports.funnel_report(workspace, by="channel")
    assert reports.funnel_report(workspace, by="channel") == answer
    reports.attribution_report(workspace, model="linear", level="lead")
    reports.campaign_report(workspace)
    assert len(decoded) == 1 and answer["snapshot"] == first.pk

    second = recompute_workspace(workspace=workspace)
    assert second.pk != first.pk
    assert reports.funnel_report(workspace, by="channel")["snapshot"] == second.pk
    assert len(decoded) == 2
    Snapshot.objects.filter(pk=second.pk).delete()
    assert reports.funnel_report(workspace)["snapshot"] == first.pk  # back to the older one, read again
    assert len(decoded) == 3


def test_the_cache_keeps_within_its_memory_budget_and_always_the_newest(workspace, other_workspace, settings):
    for ws, seed in ((workspace, 3), (other_workspace, 4)):
        with workspace_scope(ws):
            build_history(ws, seed=seed, n_leads=10)
            recompute_workspace(workspace=ws)
    reports.clear_cache()
    settings.REPORT_CACHE_MB = 0  # nothing fits: only the one just read is kept
    for ws in (workspace, other_workspace):
        with workspace_scope(ws):
            reports.funnel_report(ws)
    assert [slot[1] for slot in reports._cache] == [other_workspace.pk]
    settings.REPORT_CACHE_MB = 600
    with workspace_scope(workspace):
        reports.funnel_report(workspace)
    assert [slot[1] for slot in reports._cache] == [other_workspace.pk, workspace.pk]
