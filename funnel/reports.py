"""Reading snapshots: the funnel and attribution reports for any period and breakdown.

Everything is answered from the newest done snapshot of the workspace, never from the raw
tables. The first question about a snapshot in a process reads its arrays once, decodes them
and indexes them (``Prepared``); that is cached per workspace, keyed by the snapshot's identity,
and every later question is a handful of vector operations over the prepared arrays:

- the funnel's counts (entered, reached, converted) come from sorted per-breakdown tables of
  counts per (quantity, key, day code), where the day code of an instant is the number of local
  midnights at or before it: a period of whole days is then a range of codes, and a count per
  key is two binary searches, whatever the period;
- the velocities come from each stage's gaps, sorted once and grouped by key per breakdown:
  a period is one mask, and each key's median and p75 are the values where the running count
  of the mask reaches their ranks;
- a horizon is a prefix of each stage's conversions sorted by their gap;
- exits and target accounts are sorted by day, so a period is a slice (distinct leads and
  accounts are counted with each row's previous row of the same lead or account);
- attribution and the campaign table read the credit rows of one level and model, grouped once
  in their original order, so every sum adds the same numbers in the same order as before.

``bench/reports.py`` measures every question at scale.
"""

import datetime as dt
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings

from workspaces.models import User

from .codec import decode
from .engine import CREDIT_MODELS, LEVELS, NO_CAMPAIGN, NO_TOUCH, REASON_CODES, STAGE_CODES
from .metrics import MISSING, Period, reached_times, retention
from .models import Snapshot
from .snapshots import latest_done
from .stages import FUNNEL_STAGES

BREAKDOWNS = ("channel", "campaign", "segment", "tier", "owner", "cohort_month")
FUNNEL_COLUMNS = (
    "stage",
    "entered",
    "reached",
    "next_stage_conversion",
    "cumulative_conversion",
    "median_days_to_next",
    "p75_days_to_next",
)
ATTRIBUTION_COLUMNS = ("model", "level", "by", "key", "name", "conversions", "value")
DAY_MS = 86_400_000
N_STAGES = len(FUNNEL_STAGES)
EPOCH = dt.date(1970, 1, 1)
CACHED_WORKSPACES = 4  # prepared snapshots kept per process, one per workspace, least recently used out
# ... and at most this much memory in all (settings.REPORT_CACHE_MB; the newest is always kept):
# a million-lead workspace's prepared snapshot takes about 160 MB.


class ReportError(ValueError):
    """A report question that cannot be answered as asked; the message says why."""


class NoSnapshot(ReportError):
    """Nothing computed yet for the workspace: ask again after a recompute."""


def _midnight_ms(day: dt.date, tz: ZoneInfo) -> int:
    """The instant (ms since the epoch) the local day starts: the bound of every period."""
    return int(dt.datetime.combine(day, dt.time(), tzinfo=tz).timestamp() * 1000)


@dataclass(frozen=True)
class Filters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def period(self, timezone: str) -> Period:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ReportError(f"'from' ({self.date_from}) is after 'to' ({self.date_to}).")
        tz = ZoneInfo(timezone)
        start = _midnight_ms(self.date_from, tz) if self.date_from else None
        end = _midnight_ms(self.date_to + dt.timedelta(days=1), tz) if self.date_to else None
        return Period(start, end)

    def day_range(self) -> tuple[int | None, int | None]:
        return (
            (self.date_from - EPOCH).days if self.date_from else None,
            (self.date_to - EPOCH).days if self.date_to else None,
        )

    def as_dict(self) -> dict:
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }


# what a question reads of the snapshot row (the arrays and labels come with the prepared snapshot)
SNAPSHOT_FIELDS = ("workspace", "started_at", "finished_at", "parameters")


def snapshot_for(workspace) -> Snapshot:
    snapshot = latest_done(workspace, fields=SNAPSHOT_FIELDS)
    if snapshot is None:
        raise NoSnapshot(
            f"Workspace '{workspace.slug}' has no computed snapshot yet; run "
            f"'python manage.py recompute --workspace {workspace.slug}' first."
        )
    return snapshot


# --- the prepared snapshot ---------------------------------------------------------------------


class _Clock:
    """Day codes: the code of an instant is the number of local midnights at or before it, among
    the midnights that begin the days around the data (from the day before to two days after
    each UTC day that holds an instant, so both bounds of every instant's local day are there).

    An instant is at or after a period's start (a local midnight, ``_midnight_ms``) exactly when
    its code is at or above ``searchsorted(midnights, start, 'right')``: when the start is one of
    the midnights, as the codes count them; when it is not, no instant lies between it and the
    midnights on either side of it. So any period of whole days is a range of codes."""

    def __init__(self, times: np.ndarray, tz: ZoneInfo):
        days = np.zeros(0, dtype=np.int64)
        if len(times):
            utc_day = times // DAY_MS
            first = int(utc_day.min())
            seen = np.bincount(utc_day - first, minlength=1) > 0
            near = np.zeros(len(seen) + 3, dtype=bool)
            for shift in range(4):  # the days from one before to two after each UTC day
                near[shift : shift + len(seen)] |= seen
            days = np.flatnonzero(near) + (first - 1)
        lowest, highest = (dt.date.min - EPOCH).days, (dt.date.max - EPOCH).days
        self.midnights = np.unique(
            np.array(
                [_midnight_ms(EPOCH + dt.timedelta(days=int(d)), tz) for d in days if lowest <= d <= highest],
                dtype=np.int64,
            )
        )
        self.end = len(self.midnights) + 1  # above every code: the open end of a period, and "missing"
        self._window = None
        if len(times) >= 50_000 and len(self.midnights):
            # each instant's UTC day: how many midnights before it starts, and how many within it
            span = np.arange(int(utc_day.min()), int(utc_day.max()) + 2, dtype=np.int64) * DAY_MS
            before = np.searchsorted(self.midnights, span, side="right")
            per_day = int((before[1:] - before[:-1]).max())
            if per_day <= 4:
                padded = np.r_[self.midnights, np.full(per_day + 1, np.iinfo(np.int64).max)]
                self._window = (int(utc_day.min()), len(span) - 1, before[:-1], per_day, padded)

    def code(self, times: np.ndarray) -> np.ndarray:
        """``searchsorted(midnights, times, 'right')`` as int32; a few gathers instead of a binary
        search per instant when the instants are the ones the clock was built from."""
        times = np.asarray(times, dtype=np.int64)
        window = self._window
        if window is not None and len(times):
            first, n_days, before, per_day, padded = window
            day = times // DAY_MS - first
            if int(day.min()) >= 0 and int(day.max()) < n_days:
                start = before[day]
                codes = start.copy()
                for i in range(per_day):
                    codes += times >= padded[start + i]
                return codes.astype(np.int32)
        return np.searchsorted(self.midnights, times, side="right").astype(np.int32)

    def bounds(self, period: Period) -> tuple[int, int]:
        """The codes [low, high) of the instants inside the period."""
        low = 0 if period.start is None else int(np.searchsorted(self.midnights, period.start, side="right"))
        high = self.end if period.end is None else int(np.searchsorted(self.midnights, period.end, side="right"))
        return low, max(low, high)


class _Counts:
    """Counts per (quantity, key, day code), as the sorted non-empty cells and their running
    total: the count of one key's leads whose code is in [low, high) is two binary searches."""

    def __init__(self, code: np.ndarray, n_keys: int, quantities: list[tuple[np.ndarray, np.ndarray]], width: int):
        self.n_keys, self.width, self.n_quantities = n_keys, width, len(quantities)
        plane = n_keys * width
        wide = len(quantities) * plane >= 2**31
        cells: list = [None] * len(quantities)
        counts: list = [None] * len(quantities)
        scaled = code.astype(np.int64) * width
        gathered: tuple = (None, None)  # quantities that count the same leads share one gather
        for q in sorted(range(len(quantities)), key=lambda q: id(quantities[q][0])):
            leads, codes = quantities[q]
            if gathered[0] is not leads:
                gathered = (leads, scaled[leads])
            cell = gathered[1] + codes
            if plane <= 1 << 24:
                count = np.bincount(cell, minlength=plane)
                present = np.flatnonzero(count)
                count = count[present]
            else:
                present, count = np.unique(cell, return_counts=True)
            cells[q], counts[q] = present + q * plane, count
        del gathered, scaled
        self.cells = np.concatenate(cells).astype(np.int64 if wide else np.int32)
        self.running = np.r_[0, np.cumsum(np.concatenate(counts))].astype(np.int64)
        self._base = (np.arange(len(quantities) * n_keys, dtype=np.int64) * width).astype(self.cells.dtype)

    def query(self, low: int, high: int) -> np.ndarray:
        """Counts shaped (quantities, keys) of the cells with a code in [low, high)."""
        at = np.searchsorted(self.cells, np.stack([self._base + low, self._base + high]), side="left")
        counts = self.running[at[1]] - self.running[at[0]]
        return counts.reshape(self.n_quantities, self.n_keys)


@dataclass
class _Grouped:
    """One stage's velocity leads grouped by key, each key's still in the order of their gap:
    positions in the stage's gap order (None: one key, already in that order), their day
    codes, and where each key's group starts."""

    order: np.ndarray | None
    code: np.ndarray
    starts: np.ndarray


@dataclass
class _Breakdown:
    name: str | None
    code: np.ndarray  # per lead, 0..n_keys-1
    keys: list  # the key of each code (owner: the user id, named at question time)
    present: np.ndarray  # codes that some lead has
    counts: _Counts
    velocity: list[_Grouped]
    horizon: list[np.ndarray]  # per stage, the keys of its conversions in gap order


@dataclass
class _Gaps:
    """One stage's leads that went on to the next, sorted by the gap: its day code (of entering
    the stage), its lead, and the gap (ms, or days for velocity)."""

    gap: np.ndarray
    code: np.ndarray
    lead: np.ndarray

    @classmethod
    def of(cls, leads: np.ndarray, gap: np.ndarray, code: np.ndarray) -> "_Gaps":
        order = np.argsort(gap)  # ties are equal gaps: which lead comes first changes no answer
        return cls(gap[order], code[order].astype(np.int32), leads[order].astype(np.int32))


class Prepared:
    """A snapshot decoded and indexed for every question (immutable once built)."""

    def __init__(self, arrays: dict, labels: dict, timezone: str):
        tz = ZoneInfo(timezone)
        first_entry = arrays["first_entry"]
        n = len(first_entry)
        self.n_leads = n
        reached = reached_times(first_entry)
        has = reached != MISSING
        exit_time = np.asarray(arrays["exit_time"], dtype=np.int64)
        exit_known = exit_time != MISSING
        known = reached[has]
        self.clock = clock = _Clock(np.concatenate([known, exit_time[exit_known]]), tz)
        end = clock.end
        reached_code = np.full(reached.shape, end, dtype=np.int32)
        reached_code[has] = clock.code(known)
        del known

        # the funnel's counted quantities: (leads, the day code each is counted on)
        with_stage = [np.flatnonzero(has[:, s]) for s in range(N_STAGES)]
        converted = [
            np.flatnonzero(has[:, s] & has[:, s + 1] & (reached[:, s + 1] >= reached[:, s]))
            for s in range(N_STAGES - 1)
        ]
        quantities = (
            [(leads, reached_code[leads, s]) for s, leads in enumerate(with_stage)]  # entered
            + [(leads, reached_code[leads, 0]) for leads in with_stage]  # reached, of the touched cohort
            + [(leads, reached_code[leads, s]) for s, leads in enumerate(converted)]  # converted, cohort view
        )
        # horizon: the converted leads by their gap; velocity: recorded events for both stages
        self.horizon = [
            _Gaps.of(leads, reached[leads, s + 1] - reached[leads, s], reached_code[leads, s])
            for s, leads in enumerate(converted)
        ]
        self.velocity = []
        for s in range(N_STAGES - 1):
            leads = np.flatnonzero(
                (first_entry[:, s] != MISSING)
                & (first_entry[:, s + 1] != MISSING)
                & (first_entry[:, s + 1] >= first_entry[:, s])
            )
            days = (first_entry[leads, s + 1] - first_entry[leads, s]) / DAY_MS
            self.velocity.append(_Gaps.of(leads, days, reached_code[leads, s]))
        del reached, has, reached_code, with_stage, converted

        self.breakdowns: dict[str | None, _Breakdown] = {}
        for name in (None, *BREAKDOWNS):
            code, keys = _breakdown_codes(arrays, labels, name)
            self.breakdowns[name] = self._breakdown(name, code, keys, quantities, end)
        # the campaign table counts first-touch leads per campaign: the campaign breakdown's
        # codes from 2 when every lead with a first-touch campaign has a first-touch channel
        key_campaign = np.asarray(arrays["key_campaign"])
        if (np.asarray(arrays["key_channel"])[key_campaign >= 0] >= 0).all():
            self.first_touch = (self.breakdowns["campaign"].counts, 2)
        else:
            code = np.where(key_campaign >= 0, key_campaign + 1, 0)
            self.first_touch = (_Counts(code, int(code.max(initial=0)) + 1, quantities, end + 1), 1)
        del quantities

        # exits in the order of their day code, as one code per (stage, reason)
        exit_code = np.full(len(exit_time), end, dtype=np.int32)
        exit_code[exit_known] = clock.code(exit_time[exit_known])
        order = np.argsort(exit_code, kind="stable")
        self.exit_code = exit_code[order]
        stage = np.asarray(arrays["exit_stage"], dtype=np.int64)[order]
        reason = np.asarray(arrays["exit_reason"], dtype=np.int64)[order]
        self.exit_stage_first = int(stage.min(initial=0))
        self.exit_reason_first = int(reason.min(initial=0))
        self.exit_reasons = int(reason.max(initial=0)) - self.exit_reason_first + 1
        self.exit_stages = int(stage.max(initial=0)) - self.exit_stage_first + 1
        self.exit_pair = (stage - self.exit_stage_first) * self.exit_reasons + (reason - self.exit_reason_first)
        # recycled exits whose lead later reached SAL, for counting those leads
        later = (stage == STAGE_CODES["recycled"]) & np.asarray(arrays["exit_later_sal"], dtype=bool)[order]
        self.recycled_sal_code = self.exit_code[later]
        # (a snapshot computed before exit_lead existed counts recycle events, as it used to)
        exit_lead = arrays["exit_lead"] if "exit_lead" in arrays else np.arange(len(exit_time))
        self.recycled_sal_previous = _previous_same(np.asarray(exit_lead)[order][later])

        # target accounts touched, by day
        pairs = np.asarray(arrays["target_touch_account_day"])
        # the low 20 bits are the day as a signed number: the epoch's day is the day before it
        # west of Greenwich
        day = ((pairs & 0xFFFFF) ^ 0x80000) - 0x80000
        order = np.argsort(day, kind="stable")
        self.target_day = day[order]
        self.target_previous = _previous_same((pairs >> 20)[order])
        self.target_accounts_total = int(arrays["target_accounts"][0])
        self.contracts = {
            name: np.array(arrays[f"contract_{name}"])
            for name in ("start", "end", "cents", "status", "renews", "id", "account", "kind")
        }

        # credit rows grouped by (level, model), each group in its original order
        group = np.asarray(arrays["credit_level"]).astype(np.int16) * 64 + np.asarray(arrays["credit_model"])
        order = np.argsort(group, kind="stable")
        group = group[order]
        self.credit = {name: np.asarray(arrays[f"credit_{name}"])[order] for name in ("day", "channel", "campaign")}
        self.credit |= {
            name: np.asarray(arrays[f"credit_{name}"], dtype=np.float64)[order] for name in ("conversions", "value")
        }
        # a snapshot with no conversion yet has no credit rows, hence no group
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else np.zeros(0, np.int64)
        stops = np.r_[starts[1:], len(group)] if len(group) else np.zeros(0, np.int64)
        self.credit_groups = {int(group[a]): (int(a), int(b)) for a, b in zip(starts, stops, strict=True)}

        self.labels = labels
        self.channels = [(c["slug"], c["name"]) for c in labels["channels"]]
        self.campaigns = [(c["key"], c["name"]) for c in labels["campaigns"]]

    def _breakdown(self, name, code, keys, quantities, end) -> _Breakdown:
        n_keys = max(len(keys), int(code.max(initial=-1)) + 1)
        code = code.astype(np.int16 if n_keys <= np.iinfo(np.int16).max else np.int32)
        present = np.bincount(code, minlength=n_keys) > 0
        small = np.int16 if end <= np.iinfo(np.int16).max else np.int32
        velocity = []
        for gaps in self.velocity:
            if name is None:
                velocity.append(_Grouped(None, gaps.code.astype(small), np.array([0, len(gaps.lead)])))
                continue
            keys_of = code[gaps.lead]
            order = np.argsort(keys_of, kind="stable").astype(np.int32)  # radix sort; gap order kept
            starts = np.r_[0, np.cumsum(np.bincount(keys_of, minlength=n_keys))]
            velocity.append(_Grouped(order, gaps.code[order].astype(small), starts))
        horizon = [] if name is None else [code[gaps.lead] for gaps in self.horizon]
        counts = _Counts(code, n_keys, quantities, end + 1)
        return _Breakdown(name, code, keys, present, counts, velocity, horizon)

    def nbytes(self) -> int:
        """The memory the prepared arrays take."""
        seen: dict[int, int] = {}

        def walk(value):
            if isinstance(value, np.ndarray):
                seen[id(value)] = value.nbytes
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list | tuple):
                for item in value:
                    walk(item)
            elif isinstance(value, _Counts | _Gaps | _Grouped | _Breakdown | _Clock):
                walk(vars(value))

        walk(vars(self))
        return sum(seen.values())

    # --- the funnel ----------------------------------------------------------------------------

    def funnel(self, by: str | None, period: Period, view: str, horizon_days: float | None) -> dict:
        """What ``metrics.funnel_table`` gives for the breakdown's codes (arrays shaped keys x
        stages), and the same counts for all leads together (``overall``)."""
        breakdown = self.breakdowns[by]
        low, high = self.clock.bounds(period)
        counts = breakdown.counts.query(low, high).astype(np.float64)
        entered = counts[:N_STAGES].T
        reached = counts[N_STAGES : 2 * N_STAGES].T
        converted = counts[2 * N_STAGES :].T
        if view == "cohort" and horizon_days is not None:
            converted = self._converted_within(breakdown, low, high, horizon_days * DAY_MS)
        n_keys = len(entered)
        conversion = np.full((n_keys, N_STAGES), np.nan)
        if view == "period":
            conversion[:, :-1] = _ratio(entered[:, 1:], entered[:, :-1])
        else:
            conversion[:, :-1] = _ratio(converted, entered[:, :-1])
        median, p75 = self._velocity(breakdown, low, high)
        total_entered = entered.sum(axis=0)
        overall = np.full(N_STAGES, np.nan)
        if view == "period":
            overall[:-1] = _ratio(total_entered[1:], total_entered[:-1])
        else:
            overall[:-1] = _ratio(converted.sum(axis=0), total_entered[:-1])
        return {
            "entered": entered,
            "reached": reached,
            "next_stage_conversion": conversion,
            "cumulative_conversion": _ratio(reached, reached[:, :1]),
            "median_days_to_next": median,
            "p75_days_to_next": p75,
            "overall": {"entered": total_entered, "next_stage_conversion": overall},
        }

    def _converted_within(self, breakdown: _Breakdown, low: int, high: int, horizon_ms: float) -> np.ndarray:
        n_keys = len(breakdown.present)
        out = np.zeros((n_keys, N_STAGES - 1))
        for s, gaps in enumerate(self.horizon):
            # gap <= horizon (int against float, as the array comparison does): a prefix
            if horizon_ms != horizon_ms:
                within = 0
            elif len(gaps.gap) == 0 or horizon_ms >= float(gaps.gap[-1]):
                within = len(gaps.gap)
            else:
                within = int(np.searchsorted(gaps.gap, math.floor(horizon_ms), side="right"))
            code = gaps.code[:within]
            inside = None if low == 0 and high >= self.clock.end else (code >= low) & (code < high)
            if breakdown.name is None:
                out[0, s] = within if inside is None else np.count_nonzero(inside)
            else:
                keys = breakdown.horizon[s][:within]
                if inside is not None:  # outside the period: one key past the last (no compress)
                    keys = np.where(inside, keys, n_keys)
                out[:, s] = np.bincount(keys, minlength=n_keys + 1)[:n_keys]
        return out

    def _velocity(self, breakdown: _Breakdown, low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
        """Per key, the median and p75 of the days to the next stage, as pandas' groupby
        quantile (linear) computes them: ``v[i] + (v[i + 1] - v[i]) * frac`` at i + frac =
        q * (count - 1) over the sorted values of the key. Within each key's group (in gap
        order) the period is a mask; the i-th chosen value is where its running count reaches
        i + 1."""
        n_keys = len(breakdown.present)
        median = np.full((n_keys, N_STAGES), np.nan)
        p75 = np.full((n_keys, N_STAGES), np.nan)
        everything = low == 0 and high >= self.clock.end
        for s, (gaps, grouped) in enumerate(zip(self.velocity, breakdown.velocity, strict=True)):
            starts = grouped.starts
            if len(grouped.code) == 0:
                continue
            if everything:
                running = None
                first = starts[:-1]
            else:
                running = np.cumsum((grouped.code >= low) & (grouped.code < high), dtype=np.int64)
                # chosen before each key's group (and in all, at the end)
                first = np.where(starts[:-1] > 0, running[np.maximum(starts[:-1] - 1, 0)], 0)
            counts = np.diff(first, append=starts[-1] if running is None else running[-1])
            groups = np.flatnonzero(counts)
            if len(groups) == 0:
                continue
            count = counts[groups]
            for q, out in ((0.5, median), (0.75, p75)):
                position = q * (count - 1).astype(np.float64)
                index = position.astype(np.int64)
                frac = position % 1
                ranks = np.stack([index, np.minimum(index + 1, count - 1)])  # within the key's chosen
                if running is None:
                    at = first[groups] + ranks
                else:
                    at = np.searchsorted(running, first[groups] + ranks + 1, side="left")
                if grouped.order is not None:
                    at = grouped.order[at]
                value, following = gaps.gap[at]
                out[groups, s] = np.where(frac == 0.0, value, value + (following - value) * frac)
        return median, p75

    # --- exits, headline -----------------------------------------------------------------------

    def exits(self, period: Period) -> dict:
        """Exits whose event falls in the period, with their reasons."""
        low, high = self.clock.bounds(period)
        first, last = np.searchsorted(self.exit_code, [low, high], side="left")
        pairs = np.bincount(self.exit_pair[first:last], minlength=self.exit_stages * self.exit_reasons)
        pairs = pairs.reshape(self.exit_stages, self.exit_reasons)
        names = {code: name for name, code in REASON_CODES.items()}

        def reasons(stage_name: str) -> np.ndarray:
            row = STAGE_CODES[stage_name] - self.exit_stage_first
            return pairs[row] if 0 <= row < self.exit_stages else np.zeros(0, dtype=np.int64)

        def by_reason(stage_name: str) -> dict[str, int]:
            counts = reasons(stage_name)
            return {names.get(int(r) + self.exit_reason_first, "none"): int(counts[r]) for r in np.flatnonzero(counts)}

        def count(stage_name: str) -> int:
            return int(reasons(stage_name).sum())

        a, b = np.searchsorted(self.recycled_sal_code, [low, high], side="left")
        return {
            "rejected": count("rejected"),
            "rejected_by_reason": by_reason("rejected"),
            "recycled": count("recycled"),
            "recycled_later_sal": int(np.count_nonzero(self.recycled_sal_previous[a:b] < a)),  # distinct leads
            "disqualified": count("disqualified"),
            "lost": count("lost"),
            "lost_by_reason": by_reason("lost"),
            "churned": count("churned"),
        }

    def target_accounts_touched(self, first_day: int | None, last_day: int | None) -> int:
        """Distinct target accounts touched on the days (their touch days as the engine keeps them)."""
        first = 0 if first_day is None else int(np.searchsorted(self.target_day, first_day, side="left"))
        last = len(self.target_day) if last_day is None else int(np.searchsorted(self.target_day, last_day, "right"))
        return int(np.count_nonzero(self.target_previous[first:last] < first))

    # --- credit --------------------------------------------------------------------------------

    def credit_rows(self, level: str, model: str, first_day: int | None, last_day: int | None) -> dict:
        """The credit rows of one level and model with a day in the range, in their order."""
        a, b = self.credit_groups.get(LEVELS.index(level) * 64 + CREDIT_MODELS.index(model), (0, 0))
        rows = {name: values[a:b] for name, values in self.credit.items()}
        if first_day is not None or last_day is not None:
            day = rows["day"]
            select = np.ones(len(day), dtype=bool)
            if first_day is not None:
                select &= day >= first_day
            if last_day is not None:
                select &= day <= last_day
            rows = {name: values[select] for name, values in rows.items()}
        return rows


def _previous_same(values: np.ndarray) -> np.ndarray:
    """Per position, the position of the previous equal value (-1: none). The values at the
    positions [a, b) are distinct ``count_nonzero(previous[a:b] < a)`` times over."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    previous = np.full(len(values), -1, dtype=np.int32)
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    previous[order[same + 1]] = order[same]
    return previous


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def _unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` by counting when the values span a small range."""
    values = np.asarray(values, dtype=np.int64)
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    low, high = int(values.min()), int(values.max())
    if high - low > 1 << 22:
        unique, inverse = np.unique(values, return_inverse=True)
        return unique, inverse.astype(np.int64)
    seen = np.flatnonzero(np.bincount(values - low))
    position = np.zeros(high - low + 1, dtype=np.int64)
    position[seen] = np.arange(len(seen))
    return seen + low, position[values - low]


def _breakdown_codes(arrays: dict, labels: dict, by: str | None) -> tuple[np.ndarray, list]:
    """Per lead, a code 0..k-1 for the breakdown, and the key of each code (owner: user ids)."""
    n = len(arrays["lead_id"])
    if by is None:
        return np.zeros(n, dtype=np.int64), [""]
    if by == "channel":
        names = ["none"] + [c["slug"] for c in labels["channels"]]
        return np.asarray(arrays["key_channel"]).astype(np.int64) + 1, names
    if by == "campaign":
        names = ["none", "no_campaign"] + [c["key"] for c in labels["campaigns"]]
        code = np.where(arrays["key_channel"] < 0, 0, np.asarray(arrays["key_campaign"]).astype(np.int64) + 2)
        return code, names
    if by == "segment":
        return np.asarray(arrays["key_segment"]).astype(np.int64), ["none", *labels["segments"]]
    if by == "tier":
        return np.asarray(arrays["key_tier"]).astype(np.int64), ["none", "1", "2", "3"]
    if by == "owner":
        owners, code = _unique(arrays["key_owner"])
        return code, [int(o) for o in owners]
    days = np.asarray(arrays["key_cohort_day"]).astype(np.int64)
    # the day of no touch: -1 in snapshots written before a lead's day could be 1969-12-31 (the
    # epoch west of Greenwich)
    none = days == (int(arrays["key_cohort_none"][0]) if "key_cohort_none" in arrays else -1)
    months = np.where(none, 0, days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    no_month = int(months[~none].min()) - 1 if (~none).any() else 0  # sorts first; counting stays dense
    months[none] = no_month
    unique, code = _unique(months)
    names = ["none" if m == no_month else str(np.datetime64(int(m), "M")) for m in unique]
    return code.astype(np.int64), names


# --- the cache: one prepared snapshot per workspace per process --------------------------------

_cache: "OrderedDict[tuple, tuple[tuple, Prepared, int]]" = OrderedDict()
_cache_lock = threading.Lock()
_slot_locks: dict[tuple, threading.Lock] = {}
last_load: dict = {}  # what the last cache miss of this process cost (bench/reports.py prints it)


def prepared(snapshot: Snapshot, timezone: str) -> Prepared:
    """The snapshot decoded and indexed, from the process's cache or read once and built. The
    cache is keyed by the snapshot's identity (id, start and finish, and the time zone the
    periods are read in), not by its bytes, which are read only on a miss."""
    slot = (snapshot._state.db, snapshot.workspace_id)
    identity = (snapshot.pk, snapshot.started_at, snapshot.finished_at, timezone)
    with _cache_lock:
        entry = _cache.get(slot)
        if entry is not None and entry[0] == identity:
            _cache.move_to_end(slot)
            return entry[1]
        lock = _slot_locks.setdefault(slot, threading.Lock())
    with lock:  # one build per workspace at a time; other workspaces go on
        with _cache_lock:
            entry = _cache.get(slot)
            if entry is not None and entry[0] == identity:
                return entry[1]
            _cache.pop(slot, None)  # let the older snapshot go before building the newer
        started = time.perf_counter()
        payload = Snapshot.objects.filter(pk=snapshot.pk).values_list("arrays", flat=True).first()
        if payload is None:
            raise NoSnapshot(f"Snapshot {snapshot.pk} has no arrays; run a recompute.")
        fetched = time.perf_counter()
        arrays = decode(payload)
        payload_bytes = len(payload)
        del payload
        decoded = time.perf_counter()
        built = Prepared(arrays, snapshot.labels, timezone)
        del arrays
        done = time.perf_counter()
        last_load.clear()
        last_load.update(
            snapshot=snapshot.pk,
            payload_bytes=payload_bytes,
            fetch_seconds=fetched - started,
            decode_seconds=decoded - fetched,
            prepare_seconds=done - decoded,
            prepared_bytes=built.nbytes(),
        )
        with _cache_lock:
            _cache[slot] = (identity, built, built.nbytes())
            _cache.move_to_end(slot)
            budget = settings.REPORT_CACHE_MB * 1024 * 1024
            while len(_cache) > 1 and (
                len(_cache) > CACHED_WORKSPACES or sum(entry[2] for entry in _cache.values()) > budget
            ):
                _cache.popitem(last=False)
        return built


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _number(value: float) -> float | None:
    return None if value is None or value != value else float(value)


def _numbers(values: np.ndarray) -> list:
    return [None if v != v else v for v in values.tolist()]


def funnel_report(
    workspace,
    *,
    filters: Filters = Filters(),  # noqa: B008 - frozen
    view: str = "cohort",
    horizon_days: float | None = None,
    by: str | None = None,
) -> dict:
    """The funnel rows (FUNNEL_COLUMNS, with breakdown and key in front when ``by`` is given)."""
    if view not in ("cohort", "period"):
        raise ReportError(f"Unknown view '{view}'. Known: cohort, period.")
    if horizon_days is not None and horizon_days < 0:
        raise ReportError("The horizon is a number of days, 0 or more.")
    if horizon_days is not None and view == "period":
        raise ReportError(
            "The horizon applies to the cohort view only: ask for the cohort view, or leave the horizon out."
        )
    snapshot = snapshot_for(workspace)
    if by is not None and by not in BREAKDOWNS:
        raise ReportError(f"Unknown breakdown '{by}'. Known: {', '.join(BREAKDOWNS)}.")
    prep = prepared(snapshot, workspace.timezone)
    breakdown = prep.breakdowns[by]
    keys = breakdown.keys
    if by == "owner":
        emails = dict(User.objects.filter(id__in=[o for o in keys if o >= 0]).values_list("id", "email"))
        keys = [emails.get(o, "none") for o in keys]
    period = filters.period(workspace.timezone)
    table = prep.funnel(by, period, view, horizon_days)
    # flat lists (keys x stages), few objects for the garbage collector to follow
    entered, reached = (table[name].astype(np.int64).ravel().tolist() for name in ("entered", "reached"))
    conversion, cumulative, median, p75 = (
        _numbers(table[name].ravel())
        for name in ("next_stage_conversion", "cumulative_conversion", "median_days_to_next", "p75_days_to_next")
    )
    rows = []
    present = breakdown.present.tolist()
    for k, key in enumerate(keys):
        if by is not None and not present[k]:
            continue
        front = {"breakdown": by, "key": key} if by else {}
        for s, stage in enumerate(FUNNEL_STAGES):
            at = k * N_STAGES + s
            rows.append(
                front
                | {
                    "stage": stage,
                    "entered": entered[at],
                    "reached": reached[at],
                    "next_stage_conversion": conversion[at],
                    "cumulative_conversion": cumulative[at],
                    "median_days_to_next": median[at],
                    "p75_days_to_next": p75[at],
                }
            )
    return {
        "computed_at": snapshot.finished_at.isoformat(),
        "snapshot": snapshot.pk,
        "filters": filters.as_dict() | {"view": view, "horizon": horizon_days, "by": by},
        "rows": rows,
        "exits": prep.exits(period),
        "headline": _headline(prep, table["overall"], filters, snapshot),
    }


def _headline(prep: Prepared, overall: dict, filters: Filters, snapshot: Snapshot) -> dict:
    """Reach, acquisition, win and renewal rates and revenue retention. Renewal and retention
    need a period; without one they cover the twelve months up to the snapshot."""
    chosen_first, chosen_last = filters.day_range()
    target_total = prep.target_accounts_total
    targets_touched = prep.target_accounts_touched(chosen_first, chosen_last)
    # A contract ending after the snapshot was taken cannot be judged renewed or churned yet: the
    # period of renewal and retention ends at the snapshot's day at the latest.
    as_of_day = (dt.date.fromisoformat(snapshot.parameters["as_of"][:10]) - EPOCH).days
    last_day = as_of_day if chosen_last is None else min(chosen_last, as_of_day)
    first_day = chosen_first if chosen_first is not None else last_day - 364
    stage = {name: i for i, name in enumerate(FUNNEL_STAGES)}
    contracts = prep.contracts
    return {
        "people_touched": int(overall["entered"][stage["touched"]]),
        "target_accounts": target_total,
        "target_accounts_touched": targets_touched,
        "target_account_reach": targets_touched / target_total if target_total else None,
        "acquisition_rate": _number(overall["next_stage_conversion"][stage["touched"]]),
        "win_rate": _number(overall["next_stage_conversion"][stage["opportunity"]]),
        "retention_period": {
            "from": (EPOCH + dt.timedelta(days=first_day)).isoformat(),
            "to": (EPOCH + dt.timedelta(days=last_day)).isoformat(),
        },
        **retention(
            start=contracts["start"],
            end=contracts["end"],
            cents=contracts["cents"],
            status=contracts["status"],
            renews=contracts["renews"],
            contract_id=contracts["id"],
            account=contracts["account"],
            is_expansion=contracts["kind"] == 2,
            first_day=first_day,
            last_day=last_day,
        ),
    }


def attribution_report(
    workspace,
    *,
    model: str,
    level: str,
    by: str = "channel",
    filters: Filters = Filters(),  # noqa: B008 - frozen
) -> dict:
    """Credit per channel or campaign (ATTRIBUTION_COLUMNS) for conversions in the period."""
    if model not in CREDIT_MODELS or model == "influenced":
        raise ReportError(
            f"Unknown model '{model}'. Known: {', '.join(m for m in CREDIT_MODELS if m != 'influenced')}."
        )
    if level not in LEVELS:
        raise ReportError(f"Unknown level '{level}'. Known: {', '.join(LEVELS)}.")
    if by not in ("channel", "campaign"):
        raise ReportError(f"Attribution is broken down by channel or campaign, not '{by}'.")
    if model == "markov" and by == "campaign":
        raise ReportError("The markov model is channel-level: use --by channel (by=channel) with it.")
    snapshot = snapshot_for(workspace)
    prep = prepared(snapshot, workspace.timezone)
    credit = prep.credit_rows(level, model, *filters.day_range())
    conversions, value = credit["conversions"], credit["value"]
    channel, campaign = credit["channel"], credit["campaign"]
    if by == "channel":
        entries = [("none", "No touch"), *prep.channels]
        code = channel.astype(np.int64) + 1
    else:
        entries = [("none", "No touch"), ("no_campaign", "No campaign"), *prep.campaigns]
        code = np.where(campaign == NO_TOUCH, 0, np.where(campaign == NO_CAMPAIGN, 1, campaign.astype(np.int64) + 2))
    total_conversions = np.bincount(code, conversions, minlength=len(entries)).tolist()
    total_value = np.bincount(code, value, minlength=len(entries)).tolist()
    present = (np.bincount(code, minlength=len(entries)) > 0).tolist()
    rows = [
        {
            "model": model,
            "level": level,
            "by": by,
            "key": key,
            "name": name,
            "conversions": total_conversions[i],
            "value": round(total_value[i], 2),
        }
        for i, (key, name) in enumerate(entries)
        if present[i]
    ]
    return {
        "computed_at": snapshot.finished_at.isoformat(),
        "snapshot": snapshot.pk,
        "filters": filters.as_dict() | {"model": model, "level": level, "by": by},
        "rows": rows,
    }


CAMPAIGN_COLUMNS = (
    "key",
    "name",
    "channel",
    "cost",
    "leads",
    "mqls",
    "opportunities",
    "pipeline",
    "revenue",
    "sourced_pipeline",
    "influenced_pipeline",
    "cost_per_lead",
    "cost_per_opportunity",
    "roi",
)


def _prorated_cost(campaign: dict, filters: Filters, as_of: dt.date) -> float:
    """The campaign's actual cost, spread evenly over its days, for the days in the period."""
    if not filters.date_from and not filters.date_to:
        return campaign["cost"]
    start = dt.date.fromisoformat(campaign["start_date"])
    end = dt.date.fromisoformat(campaign["end_date"]) if campaign["end_date"] else max(as_of, start)
    first = max(start, filters.date_from or start)
    last = min(end, filters.date_to or end)
    if last < first:
        return 0.0
    return campaign["cost"] * ((last - first).days + 1) / ((end - start).days + 1)


# What ``campaign_report`` adds for one campaign, read live from the tables (not the snapshot).
REACH_COLUMNS = (
    "touches",
    "people_reached",
    "leads_influenced",
    "handed_off",
    "rejected",
    "rejected_share",
    "rejected_by_reason",
)


def campaign_reach(workspace, campaign_id: int, *, filters: Filters = Filters()) -> dict:  # noqa: B008 - frozen
    """One campaign's reach, read live from the tables in four set-based queries (each served
    by an index that leads with the workspace): its touches, the people they reached, the leads
    it influenced (people with any touch of it who were captured as leads), and of the leads it
    sourced (first touch in it) that were handed off to sales (entered MQL), how many sales
    rejected, in all and by reason (a lead rejected twice counts once in all, once per reason).
    A period counts the touches and handoffs inside it."""
    from django.db.models import Count, Exists, OuterRef, Q

    from attribution.models import Touch

    from .models import StageEvent

    period = filters.period(workspace.timezone)

    def within(field: str) -> Q:
        condition = Q()
        if period.start is not None:
            condition &= Q(**{f"{field}__gte": dt.datetime.fromtimestamp(period.start / 1000, dt.UTC)})
        if period.end is not None:
            condition &= Q(**{f"{field}__lt": dt.datetime.fromtimestamp(period.end / 1000, dt.UTC)})
        return condition

    touches = Touch.objects.filter(Q(campaign_id=campaign_id) & within("occurred_at"))
    reach = touches.aggregate(
        touches=Count("id"),
        people_reached=Count("lead_id", distinct=True),
        leads_influenced=Count("lead_id", distinct=True, filter=Q(lead__captured_at__isnull=False)),
    )
    earlier = Touch.objects.filter(lead_id=OuterRef("lead_id")).filter(
        Q(occurred_at__lt=OuterRef("occurred_at")) | Q(occurred_at=OuterRef("occurred_at"), id__lt=OuterRef("id"))
    )
    sourced = Touch.objects.filter(campaign_id=campaign_id).exclude(Exists(earlier)).values("lead_id")
    handed_off = (
        StageEvent.objects.filter(Q(lead_id__in=sourced, stage="mql") & within("entered_at"))
        .values("lead_id")
        .distinct()
    )
    handed = handed_off.count()
    rejections = StageEvent.objects.filter(lead_id__in=handed_off, stage="rejected")
    rejected = rejections.values("lead_id").distinct().count()
    by_reason = dict(
        rejections.order_by().values_list("reason").annotate(leads=Count("lead_id", distinct=True)).order_by("reason")
    )
    return reach | {
        "handed_off": handed,
        "rejected": rejected,
        "rejected_share": rejected / handed if handed else None,
        "rejected_by_reason": {
            reason or "other": {"leads": leads, "share": leads / handed} for reason, leads in by_reason.items()
        },
    }


def campaign_report(
    workspace,
    *,
    model: str = "w_shaped",
    filters: Filters = Filters(),  # noqa: B008 - frozen
    campaign_id: int | None = None,
) -> dict:
    """Per campaign: cost, leads and MQLs (first touch), pipeline and revenue credited by
    ``model``, sourced (first-touch) and influenced (any candidate touch) pipeline, cost per
    lead, cost per opportunity and ROI = (attributed revenue - cost) / cost, from the newest
    snapshot (``computed_at`` says when it was taken).

    With ``campaign_id``: that campaign's row only (none when the campaign is newer than the
    snapshot), and ``reach`` (``campaign_reach``: touches, people reached, leads influenced and
    the rejections of its handed-off leads by reason), read live. The table of every campaign
    keeps to the snapshot, so its cost stays that of a few vector operations."""
    if model not in CREDIT_MODELS or model in ("influenced", "markov"):
        raise ReportError("The campaign table needs a campaign-level model: " + ", ".join(CREDIT_MODELS[:6]) + ".")
    snapshot = snapshot_for(workspace)
    prep = prepared(snapshot, workspace.timezone)
    labels = prep.labels
    campaigns = labels["campaigns"]
    n = len(campaigns)
    period = filters.period(workspace.timezone)
    counts, offset = prep.first_touch
    entered = counts.query(*prep.clock.bounds(period))

    def first_touch_count(stage: str) -> np.ndarray:
        return entered[FUNNEL_STAGES.index(stage), offset : offset + n]

    def credit(level: str, credit_model: str) -> tuple[np.ndarray, np.ndarray]:
        rows = prep.credit_rows(level, credit_model, *filters.day_range())
        select = rows["campaign"] >= 0
        campaign = rows["campaign"][select]
        return (  # floats even when no row is chosen (bincount then counts in integers)
            np.bincount(campaign, rows["conversions"][select], minlength=n).astype(np.float64),
            np.bincount(campaign, rows["value"][select], minlength=n).astype(np.float64),
        )

    leads, mqls = first_touch_count("lead"), first_touch_count("mql")
    sourced_count, sourced_value = credit("opportunity", "first_touch")
    _, pipeline = credit("opportunity", model)
    _, revenue = credit("revenue", model)
    _, influenced = credit("opportunity", "influenced")
    channels = {c["id"]: c["slug"] for c in labels["channels"]}
    as_of = dt.date.fromisoformat(snapshot.parameters["as_of"][:10])
    costs = [_prorated_cost(campaign, filters, as_of) for campaign in campaigns]
    # per campaign, as a float divided by a NumPy count and rounded as NumPy rounds it
    with np.errstate(divide="ignore", invalid="ignore"):
        per_lead = np.round(np.array(costs, dtype=np.float64) / leads, 2).tolist()
        per_opportunity = np.round(np.array(costs, dtype=np.float64) / sourced_count, 2).tolist()
    leads, mqls, sourced_count = leads.tolist(), mqls.tolist(), sourced_count.tolist()
    pipeline, revenue = pipeline.tolist(), revenue.tolist()
    sourced_value, influenced = sourced_value.tolist(), influenced.tolist()
    rows = [
        {
            "key": campaign["key"],
            "name": campaign["name"],
            "channel": channels.get(campaign["channel_id"], ""),
            "cost": round(cost, 2),
            "leads": leads[i],
            "mqls": mqls[i],
            "opportunities": sourced_count[i],
            "pipeline": round(pipeline[i], 2),
            "revenue": round(revenue[i], 2),
            "sourced_pipeline": round(sourced_value[i], 2),
            "influenced_pipeline": round(influenced[i], 2),
            "cost_per_lead": per_lead[i] if leads[i] else None,
            "cost_per_opportunity": per_opportunity[i] if sourced_count[i] else None,
            "roi": (revenue[i] - cost) / cost if cost else None,
        }
        for i, (campaign, cost) in enumerate(zip(campaigns, costs, strict=True))
        if campaign_id is None or campaign["id"] == campaign_id
    ]
    report = {
        "computed_at": snapshot.finished_at.isoformat(),
        "snapshot": snapshot.pk,
        "filters": filters.as_dict() | {"model": model},
        "rows": rows,
    }
    if campaign_id is not None:
        report["reach"] = campaign_reach(workspace, campaign_id, filters=filters)
    return report
