"""The engine: reads one workspace in bulk and computes everything a snapshot keeps.

``load_inputs`` is the only part that touches the database (a handful of set-based reads, see
``funnel.bulkread``); ``compute`` is pure NumPy over those arrays. The result is a dict of
arrays (stored as the snapshot's ``.npz``), the labels needed to name keys, and row counts.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from attribution import rules
from attribution.models import Campaign, Channel

from .bulkread import as_bigint, epoch_days, epoch_ms, read_columns
from .metrics import MISSING
from .stages import EXIT_STAGES, FUNNEL_STAGES, LostReason, OpportunityKind, RejectionReason, Stage

STAGE_CODES = {stage: code for code, stage in enumerate(Stage.values)}
KIND_CODES = {kind: code for code, kind in enumerate(OpportunityKind.values)}
REASON_CODES = {
    reason: code for code, reason in enumerate(dict.fromkeys([*RejectionReason.values, *LostReason.values]), 1)
}
SEGMENTS = ("smb", "mid_market", "enterprise")
LEVELS = ("lead", "opportunity", "revenue")
CREDIT_MODELS = (*rules.MODELS, "influenced")  # influenced: 1 per distinct campaign among candidates
NO_TOUCH = -2  # campaign code of the "no touch" rows (channel -1)
NO_CAMPAIGN = -1
# the cohort day of a lead never touched: no day (days before 1970 are negative, -1 included)
NO_COHORT_DAY = np.iinfo(np.int32).min
DAY_MS = rules.DAY_MS

Progress = Callable[[str, int], None]


def _case(column: str, codes: dict[str, int], default: int = 0) -> str:
    whens = " ".join(f"WHEN '{value}' THEN {code}" for value, code in codes.items())
    return f"CASE {column} {whens} ELSE {default} END"


@dataclass
class Inputs:
    leads: dict[str, np.ndarray]
    events: dict[str, np.ndarray]
    touches: dict[str, np.ndarray]
    opportunities: dict[str, np.ndarray]
    accounts: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]
    contracts: dict[str, np.ndarray]
    campaigns: list[dict]
    channels: list[dict]
    timings: dict[str, float] = field(default_factory=dict)

    def row_counts(self) -> dict[str, int]:
        return {
            name: int(len(next(iter(getattr(self, name).values()))) if getattr(self, name) else 0)
            for name in ("leads", "events", "touches", "opportunities", "accounts", "targets", "contracts")
        } | {"campaigns": len(self.campaigns), "channels": len(self.channels)}


def load_inputs(workspace, progress: Progress | None = None) -> Inputs:
    """Read every table the engine needs, each in one set-based query."""
    ws = [workspace.id]
    timings: dict[str, float] = {}

    def timed(name, sql, names, percent, times=frozenset()):
        if progress:
            progress(f"reading {name}", percent)
        started = time.perf_counter()
        result = read_columns(sql, ws, names, times)
        timings[f"read {name}"] = time.perf_counter() - started
        return result

    leads = timed(
        "leads",
        # A lead merged into another is a tombstone: its touches and ledger rows moved to the survivor.
        "SELECT id, COALESCE(account_id, -1), COALESCE(owner_id, -1) FROM leads_lead "
        "WHERE workspace_id = %s AND merged_into_id IS NULL",
        ["id", "account", "owner"],
        2,
    )
    events = timed(
        "stage events",
        f"SELECT lead_id, {_case('stage', STAGE_CODES, -1)}, {epoch_ms('entered_at')}, "
        f"{_case('reason', REASON_CODES)}, id FROM funnel_stageevent WHERE workspace_id = %s",
        ["lead", "stage", "time", "reason", "id"],
        6,
        frozenset({"time"}),
    )
    touches = timed(
        "touches",
        # No account column: a touch belongs to its lead's current account (see compute).
        f"SELECT lead_id, channel_id, COALESCE(campaign_id, -1), "
        f"{epoch_ms('occurred_at')}, id FROM attribution_touch WHERE workspace_id = %s",
        ["lead", "channel", "campaign", "time", "id"],
        10,
        frozenset({"time"}),
    )
    opportunities = timed(
        "opportunities",
        f"SELECT id, account_id, primary_lead_id, {_case('kind', KIND_CODES)}, "
        f"{_case('stage', {'won': 1, 'lost': 2})}, {as_bigint('ROUND(amount * 100)')}, {epoch_ms('created_at')}, "
        f"{epoch_ms('COALESCE(closed_at, created_at)')} FROM funnel_opportunity WHERE workspace_id = %s",
        ["id", "account", "lead", "kind", "closed", "cents", "created", "closed_at"],
        30,
        frozenset({"created", "closed_at"}),
    )
    accounts = timed(
        "accounts",
        f"SELECT id, {_case('segment', {s: i for i, s in enumerate(SEGMENTS, 1)})} "
        "FROM accounts_account WHERE workspace_id = %s",
        ["id", "segment"],
        32,
    )
    targets = timed(
        "target accounts",
        "SELECT account_id, MIN(tier) FROM accounts_targetlistmember WHERE workspace_id = %s GROUP BY account_id",
        ["account", "tier"],
        33,
    )
    contracts = timed(
        "contracts",
        f"SELECT c.id, c.account_id, {epoch_days('c.start_date')}, {epoch_days('c.end_date')}, "
        f"{as_bigint('ROUND(c.annual_value * 100)')}, {_case('c.status', {'active': 0, 'renewed': 1, 'churned': 2})}, "
        "COALESCE(c.renews_id, -1), "
        f"COALESCE({_case('o.kind', KIND_CODES)}, 0) "
        "FROM funnel_contract c LEFT JOIN funnel_opportunity o ON o.id = c.opportunity_id WHERE c.workspace_id = %s",
        ["id", "account", "start", "end", "cents", "status", "renews", "kind"],
        34,
    )
    campaigns = list(
        Campaign.objects.values("id", "channel_id", "actual_cost", "external_id", "name", "start_date", "end_date")
    )
    channels = list(Channel.objects.values("id", "slug", "name").order_by("id"))
    return Inputs(leads, events, touches, opportunities, accounts, targets, contracts, campaigns, channels, timings)


def _lookup(ids: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Index of each id in the sorted unique ``sorted_keys`` (-1 when absent or negative), as
    int32 (positions, not ids: half the memory of ten million int64; cast before shifting).

    Ids are database keys, dense enough in practice for a direct table (one gather, no search);
    a search is the fallback for sparse ids."""
    ids = np.asarray(ids, dtype=np.int64)
    if len(sorted_keys) == 0:
        return np.full(len(ids), -1, dtype=np.int32)
    top = int(sorted_keys[-1])
    if int(sorted_keys[0]) >= 0 and top < max(16 * len(sorted_keys), 1 << 20) + len(ids):
        table = np.full(top + 2, -1, dtype=np.int32)
        table[sorted_keys] = np.arange(len(sorted_keys), dtype=np.int32)
        return table[np.where((ids >= 0) & (ids <= top), ids, top + 1)]
    position = np.minimum(np.searchsorted(sorted_keys, ids), len(sorted_keys) - 1)
    return np.where((ids >= 0) & (sorted_keys[position] == ids), position, -1).astype(np.int32)


def _local_days(ms: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """Days since the epoch of each instant's local date in the workspace's time zone."""
    if len(ms) == 0:
        return np.zeros(0, dtype=np.int64)
    local = pd.to_datetime(ms, unit="ms", utc=True).tz_convert(tz).tz_localize(None)
    # through datetime64[D], whatever resolution pandas chose (pandas 3 keeps milliseconds)
    return local.to_numpy().astype("datetime64[D]").astype(np.int64)


def compute(
    inputs: Inputs,
    *,
    timezone: str,
    lookback_days: int,
    half_life_days: float,
    now_ms: int,
    progress: Progress | None = None,
) -> tuple[dict[str, np.ndarray], dict]:
    """Everything a snapshot keeps, as arrays, plus the labels that name their codes."""
    tz = ZoneInfo(timezone)
    say = progress or (lambda stage, percent: None)
    lead_ids = np.sort(inputs.leads["id"])
    order = np.argsort(inputs.leads["id"])
    lead_account = inputs.leads["account"][order]
    lead_owner = inputs.leads["owner"][order]
    n = len(lead_ids)

    # --- per lead: first entry into every funnel stage ---------------------------------
    say("funnel: first entries", 36)
    ev = inputs.events
    ev_lead = _lookup(ev["lead"], lead_ids)
    funnel_code = np.full(len(STAGE_CODES) + 1, -1)
    for position, stage in enumerate(FUNNEL_STAGES):
        funnel_code[STAGE_CODES[stage]] = position
    ev_funnel = funnel_code[ev["stage"]]
    keep = (ev_lead >= 0) & (ev_funnel >= 0)
    first_entry = np.full(n * len(FUNNEL_STAGES), MISSING, dtype=np.int64)
    np.minimum.at(first_entry, ev_lead[keep] * len(FUNNEL_STAGES) + ev_funnel[keep], ev["time"][keep])
    first_entry = first_entry.reshape(n, len(FUNNEL_STAGES))

    # --- exits, and whether a recycled lead later reached SAL --------------------------
    exit_codes = np.array([STAGE_CODES[s] for s in EXIT_STAGES])
    is_exit = np.isin(ev["stage"], exit_codes) & (ev_lead >= 0)
    last_sal = np.full(n, -1, dtype=np.int64)
    sal = (ev["stage"] == STAGE_CODES["sal"]) & (ev_lead >= 0)
    np.maximum.at(last_sal, ev_lead[sal], ev["time"][sal])
    # in event id order, so the exit arrays do not depend on the order the rows were read in
    exit_rows = np.flatnonzero(is_exit)
    exit_rows = exit_rows[np.argsort(ev["id"][exit_rows], kind="stable")]
    exit_lead = ev_lead[exit_rows]
    exit_time = ev["time"][exit_rows]

    # --- touches: one stable sort by (lead, time) over rows in id order --------------
    say("touches: ordering", 40)
    t = inputs.touches
    inputs.touches = {}  # the arrays below replace them; let the originals go
    if len(t["id"]) > 1 and not (np.diff(t["id"]) > 0).all():
        by_id = np.argsort(t["id"], kind="stable")
        t = {name: values[by_id] for name, values in t.items()}
    channel_ids = np.array([c["id"] for c in inputs.channels], dtype=np.int64)
    campaign_ids = np.array(sorted(c["id"] for c in inputs.campaigns), dtype=np.int64)
    account_ids = np.sort(inputs.accounts["id"])
    t_lead = _lookup(t["lead"], lead_ids)
    # The account of a touch is its lead's account now, not the one stored when it was recorded:
    # a lead that moved account, or a merged lead, brings its touches to its current account.
    # One gather: a trailing -1 is what a touch of no live lead (t_lead -1) picks up.
    lead_account_idx = _lookup(lead_account, account_ids)
    t_account = np.append(lead_account_idx, np.int32(-1))[t_lead]
    t_channel = _lookup(t["channel"], channel_ids)
    t_campaign = _lookup(t["campaign"], campaign_ids)
    # ties in time keep id order: the sort is stable and the rows are in id order
    (by_lead,) = rules.pair_keys(n, (t_lead, t["time"]))
    lead_order = np.argsort(by_lead, kind="stable")
    del by_lead
    touch_lead = t_lead[lead_order]
    touch_time = t["time"][lead_order]
    touch_channel = t_channel[lead_order]
    touch_campaign = t_campaign[lead_order]
    touch_account = t_account[lead_order]
    del lead_order
    (by_account,) = rules.pair_keys(len(account_ids), (t_account, t["time"]))
    account_order = np.argsort(by_account, kind="stable")
    del by_account
    account_order = account_order[t_account[account_order] >= 0]
    acc_key = t_account[account_order]
    acc_time = t["time"][account_order]
    acc_channel = t_channel[account_order]
    acc_campaign = t_campaign[account_order]
    del account_order, t, t_lead, t_account, t_channel, t_campaign

    # first touch per lead: channel and campaign breakdown keys
    first_row = (
        np.r_[True, touch_lead[1:] != touch_lead[:-1]] & (touch_lead >= 0) if len(touch_lead) else np.zeros(0, bool)
    )
    first_channel = np.full(n, -1, dtype=np.int64)
    first_campaign = np.full(n, -1, dtype=np.int64)
    first_channel[touch_lead[first_row]] = touch_channel[first_row]
    first_campaign[touch_lead[first_row]] = touch_campaign[first_row]

    # --- other breakdown keys ----------------------------------------------------------
    account_segment = inputs.accounts["segment"][np.argsort(inputs.accounts["id"])]
    # a trailing 0 for leads without an account (index -1); also right when there are no accounts
    segment = np.append(account_segment, 0)[lead_account_idx]
    account_tier = np.zeros(len(account_ids), dtype=np.int64)
    target_idx = _lookup(inputs.targets["account"], account_ids)
    account_tier[target_idx[target_idx >= 0]] = inputs.targets["tier"][target_idx >= 0]
    tier = np.append(account_tier, 0)[lead_account_idx]
    touched_at = np.minimum.reduce(first_entry, axis=1)  # the earliest recorded or later stage
    cohort_day = np.where(
        touched_at != MISSING, _local_days(np.where(touched_at == MISSING, 0, touched_at), tz), NO_COHORT_DAY
    )

    # --- attribution -------------------------------------------------------------------
    say("attribution: lead level", 50)
    lookback_ms = lookback_days * DAY_MS
    credit_parts: list[dict[str, np.ndarray]] = []
    n_channels = len(channel_ids)
    lead_entry = first_entry[:, FUNNEL_STAGES.index("lead")]
    converted = np.flatnonzero(lead_entry != MISSING)
    valid = touch_lead >= 0
    credit_parts += _attribute_level(
        level="lead",
        touch_key=touch_lead[valid],
        touch_time=touch_time[valid],
        touch_channel=touch_channel[valid],
        touch_campaign=touch_campaign[valid],
        conv_key=converted,
        conv_time=lead_entry[converted],
        conv_value=np.ones(len(converted)),
        lead_moment=None,
        opp_moment=None,
        n_keys=n,
        n_channels=n_channels,
        n_campaigns=len(campaign_ids),
        lookback_ms=lookback_ms,
        half_life_days=half_life_days,
        now_ms=now_ms,
        tz=tz,
    )

    say("attribution: account levels", 65)
    opp = inputs.opportunities
    new_business = opp["kind"] == KIND_CODES["new_business"]
    opp_account = _lookup(opp["account"], account_ids)
    opp_lead = _lookup(opp["lead"], lead_ids)
    primary_lead_entry = np.where(opp_lead >= 0, lead_entry[np.maximum(opp_lead, 0)], MISSING)
    for level, chosen, moment in (
        ("opportunity", new_business & (opp_account >= 0), opp["created"]),
        ("revenue", new_business & (opp_account >= 0) & (opp["closed"] == 1), opp["closed_at"]),
    ):
        credit_parts += _attribute_level(
            level=level,
            touch_key=acc_key,
            touch_time=acc_time,
            touch_channel=acc_channel,
            touch_campaign=acc_campaign,
            conv_key=opp_account[chosen],
            conv_time=moment[chosen],
            conv_value=opp["cents"][chosen] / 100.0,
            lead_moment=primary_lead_entry[chosen],
            opp_moment=opp["created"][chosen],
            n_keys=len(account_ids),
            n_channels=n_channels,
            n_campaigns=len(campaign_ids),
            lookback_ms=lookback_ms,
            half_life_days=half_life_days,
            now_ms=now_ms,
            tz=tz,
        )
        say(f"attribution: {level} level done", 80 if level == "opportunity" else 88)

    say("assembling", 90)
    credits = {name: np.concatenate([part[name] for part in credit_parts]) for name in credit_parts[0]}
    target_touch = np.zeros(0, dtype=np.int64)
    if len(touch_account):
        targeted = touch_account >= 0
        targeted[targeted] = account_tier[touch_account[targeted]] > 0
        # the day in 20 bits as a signed number (years 535 to 3405): reports sign-extend it
        target_touch = np.unique(
            (touch_account[targeted].astype(np.int64) << 20) | (_local_days(touch_time[targeted], tz) & 0xFFFFF)
        )
    arrays = {
        "lead_id": lead_ids,
        "first_entry": first_entry,
        "key_channel": first_channel.astype(np.int32),
        "key_campaign": first_campaign.astype(np.int32),
        "key_segment": segment.astype(np.int32),
        "key_tier": tier.astype(np.int32),
        "key_owner": lead_owner,
        "key_cohort_day": cohort_day.astype(np.int32),
        "key_cohort_none": np.array([NO_COHORT_DAY], dtype=np.int32),
        "exit_stage": ev["stage"][exit_rows],
        "exit_reason": ev["reason"][exit_rows],
        "exit_time": exit_time,
        "exit_later_sal": (last_sal[exit_lead] > exit_time),
        "exit_lead": exit_lead.astype(np.int32),  # position in lead_id: count leads, not events
        "contract_account": inputs.contracts["account"],
        "contract_start": inputs.contracts["start"],
        "contract_end": inputs.contracts["end"],
        "contract_cents": inputs.contracts["cents"],
        "contract_status": inputs.contracts["status"],
        "contract_renews": inputs.contracts["renews"],
        "contract_id": inputs.contracts["id"],
        "contract_kind": inputs.contracts["kind"],
        "target_accounts": np.array([int((account_tier > 0).sum())]),
        "target_touch_account_day": target_touch,
        **{f"credit_{name}": values for name, values in credits.items()},
    }
    labels = {
        "channels": [{"id": c["id"], "slug": c["slug"], "name": c["name"]} for c in inputs.channels],
        "campaigns": [
            {
                "id": c["id"],
                "key": c["external_id"] or str(c["id"]),
                "name": c["name"],
                "cost": float(c["actual_cost"]),
                "channel_id": c["channel_id"],
                "start_date": c["start_date"].isoformat(),
                "end_date": c["end_date"].isoformat() if c["end_date"] else None,
            }
            for c in sorted(inputs.campaigns, key=lambda c: c["id"])
        ],
        "segments": list(SEGMENTS),
        "levels": list(LEVELS),
        "models": list(CREDIT_MODELS),
        "stages": list(Stage.values),
        "reasons": {str(code): reason for reason, code in REASON_CODES.items()},
    }
    return arrays, labels


def _attribute_level(
    *,
    level,
    touch_key,
    touch_time,
    touch_channel,
    touch_campaign,
    conv_key,
    conv_time,
    conv_value,
    lead_moment,
    opp_moment,
    n_keys,
    n_channels,
    n_campaigns,
    lookback_ms,
    half_life_days,
    now_ms,
    tz,
):
    """Credit rows (level, model, day, channel, campaign, conversions, value) for one level,
    summed per day, channel and campaign."""
    level_code = LEVELS.index(level)
    cands = rules.candidates(touch_key, touch_time, conv_key, conv_time, lookback_ms)
    conv_day = _local_days(conv_time, tz)
    parts = []
    grouping = _Cells(
        conv_day[cands.conversion],
        touch_channel[cands.touch],
        touch_campaign[cands.touch],
        conv_day,
        n_channels,
        n_campaigns,
    )
    row_value = conv_value[cands.conversion]

    lead_rank = opp_rank = None
    if lead_moment is not None:
        # A primary lead with no recorded entry into 'lead' has no lead-creation touch (its 30%
        # goes to the positions held), not the last candidate before the "missing" marker.
        lead_rank = np.where(lead_moment == MISSING, -1, rules.last_rank_at_or_before(cands, touch_time, lead_moment))
        opp_rank = rules.last_rank_at_or_before(cands, touch_time, opp_moment)
    for model in rules.POSITION_MODELS:
        w = rules.weights(
            model,
            cands,
            touch_time=touch_time,
            conv_time=conv_time,
            half_life_days=half_life_days,
            lead_rank=lead_rank,
            opportunity_rank=opp_rank,
        )
        parts.append(grouping.rows(level_code, model, w, w * row_value))
        del w

    if level != "lead":
        # influenced: each distinct campaign among a conversion's candidates counts once
        row_campaign = touch_campaign[cands.touch]
        pair_index = cands.conversion * (n_campaigns + 1) + (row_campaign + 1)
        size = len(conv_key) * (n_campaigns + 1)
        if size <= _Cells.MAX_CELLS * 4:
            pair = np.flatnonzero(np.bincount(pair_index, minlength=size))
        else:
            pair = np.unique(pair_index)
        pair_conv, pair_campaign = pair // (n_campaigns + 1), pair % (n_campaigns + 1) - 1
        keep = pair_campaign >= 0
        parts.append(
            _aggregate(
                level_code,
                "influenced",
                conv_day[pair_conv[keep]],
                -1,
                pair_campaign[keep],
                np.ones(int(keep.sum())),
                conv_value[pair_conv[keep]],
            )
        )

    # markov: channel-level removal effects over converting and non-converting paths
    has_touch = cands.counts > 0
    converted_keys = np.zeros(n_keys, dtype=bool)
    converted_keys[conv_key] = True
    open_rows = ~converted_keys[touch_key] & (touch_time <= now_ms)
    if lookback_ms > 0:
        open_rows &= touch_time >= now_ms - lookback_ms
    open_key = touch_key[open_rows]
    open_path = len(conv_key) + np.cumsum(np.r_[True, open_key[1:] != open_key[:-1]]) - 1 if len(open_key) else open_key
    path_id = np.concatenate([cands.conversion, open_path])
    path_channel = np.concatenate([touch_channel[cands.touch], touch_channel[open_rows]])
    n_paths = int(open_path.max()) + 1 if len(open_path) else len(conv_key)
    path_converted = np.zeros(n_paths, dtype=bool)
    path_converted[: len(conv_key)] = has_touch
    effects = rules.markov_removal_effects(path_id, path_channel, path_converted, n_channels)
    del path_id, path_channel, open_rows
    share = effects / effects.sum() if effects.sum() > 0 else np.zeros(n_channels)
    touched = np.flatnonzero(has_touch)
    days, day_of = np.unique(conv_day[touched], return_inverse=True)
    day_conv = np.bincount(day_of, minlength=len(days)).astype(np.float64)
    day_value = np.bincount(day_of, conv_value[touched], minlength=len(days))
    credited = np.flatnonzero(share > 0)
    parts.append(
        _rows(
            level_code,
            "markov",
            np.repeat(days, len(credited)),
            np.tile(credited, len(days)),
            np.full(len(days) * len(credited), NO_CAMPAIGN),
            (day_conv[:, None] * share[credited][None, :]).ravel(),
            (day_value[:, None] * share[credited][None, :]).ravel(),
        )
    )

    # no touch: the same rows under every model, so every model's totals agree
    none = ~has_touch
    for model in rules.MODELS:
        parts.append(
            _aggregate(level_code, model, conv_day[none], -1, NO_TOUCH, np.ones(int(none.sum())), conv_value[none])
        )
    return parts


class _Cells:
    """Sums candidate rows per (day, channel, campaign) by one bincount over a dense cell index
    (no sort); falls back to np.unique when the dense grid would be too large."""

    MAX_CELLS = 20_000_000

    def __init__(self, day, channel, campaign, all_days, n_channels, n_campaigns):
        first = int(all_days.min()) if len(all_days) else 0
        n_days = (int(all_days.max()) - first + 1) if len(all_days) else 1
        self.shape = (n_days, n_channels + 1, n_campaigns + 1)
        self.first = first
        size = n_days * (n_channels + 1) * (n_campaigns + 1)
        cell = ((day - first) * (n_channels + 1) + (channel + 1)) * (n_campaigns + 1) + (campaign + 1)
        if size <= self.MAX_CELLS:
            self.size, self.index = size, cell
            self.cells = np.flatnonzero(np.bincount(cell, minlength=size))
        else:
            self.cells, self.index = np.unique(cell, return_inverse=True)
            self.size = len(self.cells)
        self.dense = size <= self.MAX_CELLS

    def rows(self, level_code, model, conversions, value):
        sum_conv = np.bincount(self.index, conversions, self.size)
        sum_value = np.bincount(self.index, value, self.size)
        if self.dense:
            sum_conv, sum_value = sum_conv[self.cells], sum_value[self.cells]
        day, channel, campaign = np.unravel_index(self.cells, self.shape)
        return _rows(level_code, model, day + self.first, channel - 1, campaign - 1, sum_conv, sum_value)


def _rows(level_code, model, day, channel, campaign, conversions, value):
    size = len(day)
    return {
        "level": np.full(size, level_code, dtype=np.int8),
        "model": np.full(size, CREDIT_MODELS.index(model), dtype=np.int8),
        "day": np.asarray(day, dtype=np.int32),
        "channel": np.broadcast_to(np.asarray(channel, dtype=np.int32), size).copy(),
        "campaign": np.broadcast_to(np.asarray(campaign, dtype=np.int32), size).copy(),
        "conversions": np.asarray(conversions, dtype=np.float64),
        "value": np.asarray(value, dtype=np.float64),
    }


def _aggregate(level_code, model, day, channel, campaign, conversions, value):
    """Sum rows that share a day, channel and campaign."""
    day = np.asarray(day, dtype=np.int64)
    size = len(day)
    channel = np.broadcast_to(np.asarray(channel, dtype=np.int64), size)
    campaign = np.broadcast_to(np.asarray(campaign, dtype=np.int64), size)
    key = (day << 40) | ((channel + 1) << 28) | (campaign + 2)
    groups, inverse = np.unique(key, return_inverse=True)
    return _rows(
        level_code,
        model,
        groups >> 40,
        ((groups >> 28) & 0xFFF) - 1,
        (groups & 0xFFFFFFF) - 2,
        np.bincount(inverse, conversions, len(groups)),
        np.bincount(inverse, value, len(groups)),
    )
