"""Reading snapshots: the funnel and attribution reports for any period and breakdown.

Everything is answered from the newest done snapshot of the workspace (its arrays are loaded
once per process and cached by snapshot id), never from the raw tables.
"""

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from workspaces.models import User

from .codec import decode
from .engine import CREDIT_MODELS, LEVELS, NO_CAMPAIGN, NO_TOUCH, REASON_CODES, STAGE_CODES
from .metrics import Period, funnel_table, reached_times, retention
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


class ReportError(ValueError):
    """A report question that cannot be answered as asked; the message says why."""


class NoSnapshot(ReportError):
    """Nothing computed yet for the workspace: ask again after a recompute."""


@dataclass(frozen=True)
class Filters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def period(self, timezone: str) -> Period:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ReportError(f"'from' ({self.date_from}) is after 'to' ({self.date_to}).")
        tz = ZoneInfo(timezone)

        def ms(day: dt.date) -> int:
            return int(dt.datetime.combine(day, dt.time(), tzinfo=tz).timestamp() * 1000)

        start = ms(self.date_from) if self.date_from else None
        end = ms(self.date_to + dt.timedelta(days=1)) if self.date_to else None
        return Period(start, end)

    def day_range(self) -> tuple[int | None, int | None]:
        epoch = dt.date(1970, 1, 1)
        return (
            (self.date_from - epoch).days if self.date_from else None,
            (self.date_to - epoch).days if self.date_to else None,
        )

    def as_dict(self) -> dict:
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }


def snapshot_for(workspace) -> Snapshot:
    snapshot = latest_done(workspace)
    if snapshot is None:
        raise NoSnapshot(
            f"Workspace '{workspace.slug}' has no computed snapshot yet; run "
            f"'python manage.py recompute --workspace {workspace.slug}' first."
        )
    return snapshot


@functools.lru_cache(maxsize=4)
def _arrays(snapshot_id: int, payload: bytes) -> dict[str, np.ndarray]:
    return decode(payload)


def snapshot_arrays(snapshot: Snapshot) -> dict[str, np.ndarray]:
    return _arrays(snapshot.pk, bytes(snapshot.arrays))


def _breakdown(arrays: dict, labels: dict, by: str | None) -> tuple[np.ndarray, list[str]]:
    """Per lead, a code 0..k-1 for the breakdown, and the key of each code."""
    n = len(arrays["lead_id"])
    if by is None:
        return np.zeros(n, dtype=np.int64), [""]
    if by not in BREAKDOWNS:
        raise ReportError(f"Unknown breakdown '{by}'. Known: {', '.join(BREAKDOWNS)}.")
    if by == "channel":
        names = ["none"] + [c["slug"] for c in labels["channels"]]
        return arrays["key_channel"] + 1, names
    if by == "campaign":
        names = ["none", "no_campaign"] + [c["key"] for c in labels["campaigns"]]
        code = np.where(arrays["key_channel"] < 0, 0, arrays["key_campaign"] + 2)
        return code, names
    if by == "segment":
        return arrays["key_segment"], ["none", *labels["segments"]]
    if by == "tier":
        return arrays["key_tier"], ["none", "1", "2", "3"]
    if by == "owner":
        owners, code = np.unique(arrays["key_owner"], return_inverse=True)
        emails = dict(User.objects.filter(id__in=[int(o) for o in owners if o >= 0]).values_list("id", "email"))
        return code, [emails.get(int(o), "none") for o in owners]
    days = arrays["key_cohort_day"]
    months = np.where(days >= 0, days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64), -1)
    unique, code = np.unique(months, return_inverse=True)
    names = ["none" if m < 0 else str(np.datetime64(int(m), "M")) for m in unique]
    return code, names


def _number(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


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
    snapshot = snapshot_for(workspace)
    arrays = snapshot_arrays(snapshot)
    code, keys = _breakdown(arrays, snapshot.labels, by)
    table = funnel_table(
        arrays["first_entry"],
        code,
        len(keys),
        period=filters.period(workspace.timezone),
        view=view,
        horizon_days=horizon_days,
    )
    rows = []
    present = np.bincount(code, minlength=len(keys)) > 0
    for k, key in enumerate(keys):
        if by is not None and not present[k]:
            continue
        for s, stage in enumerate(FUNNEL_STAGES):
            row = {"breakdown": by, "key": key} if by else {}
            row |= {
                "stage": stage,
                "entered": int(table["entered"][k, s]),
                "reached": int(table["reached"][k, s]),
                "next_stage_conversion": _number(table["next_stage_conversion"][k, s]),
                "cumulative_conversion": _number(table["cumulative_conversion"][k, s]),
                "median_days_to_next": _number(table["median_days_to_next"][k, s]),
                "p75_days_to_next": _number(table["p75_days_to_next"][k, s]),
            }
            rows.append(row)
    period = filters.period(workspace.timezone)
    overall = (
        table
        if by is None
        else funnel_table(
            arrays["first_entry"], np.zeros(len(code), np.int64), 1, period=period, view=view, horizon_days=horizon_days
        )
    )
    return {
        "computed_at": snapshot.finished_at.isoformat(),
        "snapshot": snapshot.pk,
        "filters": filters.as_dict() | {"view": view, "horizon": horizon_days, "by": by},
        "rows": rows,
        "exits": _exits(arrays, period),
        "headline": _headline(arrays, overall, filters, snapshot, workspace.timezone),
    }


def _exits(arrays: dict, period: Period) -> dict:
    """Exits whose event falls in the period, with their reasons."""
    inside = period.contains(arrays["exit_time"])
    stage = arrays["exit_stage"][inside]
    reason = arrays["exit_reason"][inside]
    names = {code: name for name, code in REASON_CODES.items()}

    def by_reason(stage_name: str) -> dict[str, int]:
        codes, counts = np.unique(reason[stage == STAGE_CODES[stage_name]], return_counts=True)
        return {names.get(int(c), "none"): int(n) for c, n in zip(codes, counts, strict=True)}

    def count(stage_name: str) -> int:
        return int((stage == STAGE_CODES[stage_name]).sum())

    recycled = stage == STAGE_CODES["recycled"]
    return {
        "rejected": count("rejected"),
        "rejected_by_reason": by_reason("rejected"),
        "recycled": int(recycled.sum()),
        "recycled_later_sal": int(arrays["exit_later_sal"][inside][recycled].sum()),
        "disqualified": count("disqualified"),
        "lost": count("lost"),
        "lost_by_reason": by_reason("lost"),
        "churned": count("churned"),
    }


def _headline(arrays: dict, overall: dict, filters: Filters, snapshot: Snapshot, timezone: str) -> dict:
    """Reach, acquisition, win and renewal rates and revenue retention. Renewal and retention
    need a period; without one they cover the twelve months up to the snapshot."""
    chosen_first, chosen_last = filters.day_range()
    target_total = int(arrays["target_accounts"][0])
    pairs = arrays["target_touch_account_day"]
    touch_day = pairs & 0xFFFFF
    in_range = np.ones(len(pairs), dtype=bool)
    if chosen_first is not None:
        in_range &= touch_day >= chosen_first
    if chosen_last is not None:
        in_range &= touch_day <= chosen_last
    targets_touched = int(len(np.unique(pairs[in_range] >> 20)))
    last_day = chosen_last
    if last_day is None:
        last_day = (dt.date.fromisoformat(snapshot.parameters["as_of"][:10]) - dt.date(1970, 1, 1)).days
    first_day = chosen_first if chosen_first is not None else last_day - 364
    stage = {name: i for i, name in enumerate(FUNNEL_STAGES)}
    return {
        "people_touched": int(overall["entered"][0, stage["touched"]]),
        "target_accounts": target_total,
        "target_accounts_touched": targets_touched,
        "target_account_reach": targets_touched / target_total if target_total else None,
        "acquisition_rate": _number(overall["next_stage_conversion"][0, stage["touched"]]),
        "win_rate": _number(overall["next_stage_conversion"][0, stage["opportunity"]]),
        "retention_period": {
            "from": (dt.date(1970, 1, 1) + dt.timedelta(days=first_day)).isoformat(),
            "to": (dt.date(1970, 1, 1) + dt.timedelta(days=last_day)).isoformat(),
        },
        **retention(
            start=arrays["contract_start"],
            end=arrays["contract_end"],
            cents=arrays["contract_cents"],
            status=arrays["contract_status"],
            renews=arrays["contract_renews"],
            contract_id=arrays["contract_id"],
            account=arrays["contract_account"],
            is_expansion=arrays["contract_kind"] == 2,
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
    arrays = snapshot_arrays(snapshot)
    labels = snapshot.labels
    select = (arrays["credit_level"] == LEVELS.index(level)) & (arrays["credit_model"] == CREDIT_MODELS.index(model))
    first_day, last_day = filters.day_range()
    if first_day is not None:
        select &= arrays["credit_day"] >= first_day
    if last_day is not None:
        select &= arrays["credit_day"] <= last_day
    conversions = arrays["credit_conversions"][select]
    value = arrays["credit_value"][select]
    channel = arrays["credit_channel"][select]
    campaign = arrays["credit_campaign"][select]
    if by == "channel":
        entries = [("none", "No touch")] + [(c["slug"], c["name"]) for c in labels["channels"]]
        code = channel.astype(np.int64) + 1
    else:
        entries = [("none", "No touch"), ("no_campaign", "No campaign")]
        entries += [(c["key"], c["name"]) for c in labels["campaigns"]]
        code = np.where(campaign == NO_TOUCH, 0, np.where(campaign == NO_CAMPAIGN, 1, campaign.astype(np.int64) + 2))
    total_conversions = np.bincount(code, conversions, minlength=len(entries))
    total_value = np.bincount(code, value, minlength=len(entries))
    present = np.bincount(code, minlength=len(entries)) > 0
    rows = [
        {
            "model": model,
            "level": level,
            "by": by,
            "key": key,
            "name": name,
            "conversions": float(total_conversions[i]),
            "value": round(float(total_value[i]), 2),
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


def campaign_report(
    workspace,
    *,
    model: str = "w_shaped",
    filters: Filters = Filters(),  # noqa: B008 - frozen
) -> dict:
    """Per campaign: cost, leads and MQLs (first touch), pipeline and revenue credited by
    ``model``, sourced (first-touch) and influenced (any candidate touch) pipeline, cost per
    lead, cost per opportunity and ROI = (attributed revenue - cost) / cost."""
    if model not in CREDIT_MODELS or model in ("influenced", "markov"):
        raise ReportError("The campaign table needs a campaign-level model: " + ", ".join(CREDIT_MODELS[:6]) + ".")
    snapshot = snapshot_for(workspace)
    arrays = snapshot_arrays(snapshot)
    labels = snapshot.labels
    campaigns = labels["campaigns"]
    n = len(campaigns)
    period = filters.period(workspace.timezone)
    reached = reached_times(arrays["first_entry"])
    key = arrays["key_campaign"]
    has_campaign = key >= 0

    def first_touch_count(stage: str) -> np.ndarray:
        entered = period.contains(reached[:, FUNNEL_STAGES.index(stage)]) & has_campaign
        return np.bincount(key[entered], minlength=n)

    def credit(level: str, credit_model: str) -> tuple[np.ndarray, np.ndarray]:
        select = (arrays["credit_level"] == LEVELS.index(level)) & (
            arrays["credit_model"] == CREDIT_MODELS.index(credit_model)
        )
        first_day, last_day = filters.day_range()
        if first_day is not None:
            select &= arrays["credit_day"] >= first_day
        if last_day is not None:
            select &= arrays["credit_day"] <= last_day
        select &= arrays["credit_campaign"] >= 0
        campaign = arrays["credit_campaign"][select]
        return (
            np.bincount(campaign, arrays["credit_conversions"][select], minlength=n),
            np.bincount(campaign, arrays["credit_value"][select], minlength=n),
        )

    leads, mqls = first_touch_count("lead"), first_touch_count("mql")
    sourced_count, sourced_value = credit("opportunity", "first_touch")
    _, pipeline = credit("opportunity", model)
    _, revenue = credit("revenue", model)
    _, influenced = credit("opportunity", "influenced")
    channels = {c["id"]: c["slug"] for c in labels["channels"]}
    as_of = dt.date.fromisoformat(snapshot.parameters["as_of"][:10])
    rows = []
    for i, campaign in enumerate(campaigns):
        cost = _prorated_cost(campaign, filters, as_of)
        rows.append(
            {
                "key": campaign["key"],
                "name": campaign["name"],
                "channel": channels.get(campaign["channel_id"], ""),
                "cost": round(cost, 2),
                "leads": int(leads[i]),
                "mqls": int(mqls[i]),
                "opportunities": float(sourced_count[i]),
                "pipeline": round(float(pipeline[i]), 2),
                "revenue": round(float(revenue[i]), 2),
                "sourced_pipeline": round(float(sourced_value[i]), 2),
                "influenced_pipeline": round(float(influenced[i]), 2),
                "cost_per_lead": round(cost / leads[i], 2) if leads[i] else None,
                "cost_per_opportunity": round(cost / sourced_count[i], 2) if sourced_count[i] else None,
                "roi": (float(revenue[i]) - cost) / cost if cost else None,
            }
        )
    return {
        "computed_at": snapshot.finished_at.isoformat(),
        "snapshot": snapshot.pk,
        "filters": filters.as_dict() | {"model": model},
        "rows": rows,
    }
