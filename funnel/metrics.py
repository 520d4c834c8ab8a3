"""The funnel maths: pure functions over per-lead arrays (no ORM).

Input, per lead: ``first_entry`` (n x 7, int64 ms since the epoch, ``MISSING`` where the lead
has no event for the stage) in the order of ``FUNNEL_STAGES``, and a breakdown key (int codes
0..n_keys-1; one key for "no breakdown"). A lead that entered a later stage without an event
for an earlier one counts as having reached the earlier one at the time of the later one
(``reached_times``). Velocity uses recorded events only.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .stages import FUNNEL_STAGES

MISSING = np.iinfo(np.int64).max
DAY_MS = 86_400_000
N_STAGES = len(FUNNEL_STAGES)


def reached_times(first_entry: np.ndarray) -> np.ndarray:
    """Recorded first entries, with each missing earlier stage filled by the earliest later one."""
    later_min = np.minimum.accumulate(first_entry[:, ::-1], axis=1)[:, ::-1]
    return np.where(first_entry != MISSING, first_entry, later_min)


@dataclass(frozen=True)
class Period:
    """Half-open [start, end) in ms; None for all time."""

    start: int | None = None
    end: int | None = None

    def contains(self, times: np.ndarray) -> np.ndarray:
        inside = times != MISSING
        if self.start is not None:
            inside &= times >= self.start
        if self.end is not None:
            inside &= times < self.end
        return inside


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def funnel_table(
    first_entry: np.ndarray,
    key: np.ndarray,
    n_keys: int,
    *,
    period: Period = Period(),  # noqa: B008 - immutable
    view: str = "cohort",
    horizon_days: float | None = None,
) -> dict[str, np.ndarray]:
    """Per key and stage (arrays shaped n_keys x 7): entered, reached, next_stage_conversion,
    cumulative_conversion, median_days_to_next and p75_days_to_next (NaN where undefined; the
    last stage has no next stage)."""
    if view not in ("cohort", "period"):
        raise ValueError(f"Unknown view '{view}'. Known: cohort, period.")
    if view == "period" and horizon_days is not None:
        raise ValueError("The horizon applies to the cohort view only.")
    key = np.asarray(key, dtype=np.int64)
    reached = reached_times(first_entry)
    has = reached != MISSING
    in_period = np.stack([period.contains(reached[:, s]) for s in range(N_STAGES)], axis=1)

    def per_key(mask: np.ndarray) -> np.ndarray:
        return np.bincount(key[mask], minlength=n_keys).astype(np.float64)

    entered = np.stack([per_key(in_period[:, s]) for s in range(N_STAGES)], axis=1)
    cohort = in_period[:, 0]
    reached_count = np.stack([per_key(cohort & has[:, s]) for s in range(N_STAGES)], axis=1)
    cumulative = _ratio(reached_count, reached_count[:, :1])

    next_conversion = np.full((n_keys, N_STAGES), np.nan)
    median = np.full((n_keys, N_STAGES), np.nan)
    p75 = np.full((n_keys, N_STAGES), np.nan)
    horizon_ms = None if horizon_days is None else horizon_days * DAY_MS
    for s in range(N_STAGES - 1):
        if view == "period":
            next_conversion[:, s] = _ratio(entered[:, s + 1], entered[:, s])
        else:
            gap = reached[:, s + 1] - reached[:, s]  # overflow-free: masked by has[] below
            converted = in_period[:, s] & has[:, s + 1] & (reached[:, s + 1] >= reached[:, s])
            if horizon_ms is not None:
                converted &= np.where(converted, gap, 0) <= horizon_ms
            next_conversion[:, s] = _ratio(per_key(converted), entered[:, s])
        recorded_both = (
            in_period[:, s]
            & (first_entry[:, s] != MISSING)
            & (first_entry[:, s + 1] != MISSING)
            & (first_entry[:, s + 1] >= first_entry[:, s])
        )
        if recorded_both.any():
            days = (first_entry[recorded_both, s + 1] - first_entry[recorded_both, s]) / DAY_MS
            grouped = pd.Series(days).groupby(key[recorded_both])
            quantiles = grouped.quantile([0.5, 0.75]).unstack()
            median[quantiles.index.to_numpy(), s] = quantiles[0.5].to_numpy()
            p75[quantiles.index.to_numpy(), s] = quantiles[0.75].to_numpy()
    return {
        "entered": entered,
        "reached": reached_count,
        "next_stage_conversion": next_conversion,
        "cumulative_conversion": cumulative,
        "median_days_to_next": median,
        "p75_days_to_next": p75,
    }


def retention(
    *,
    start: np.ndarray,
    end: np.ndarray,
    cents: np.ndarray,
    status: np.ndarray,
    renews: np.ndarray,
    contract_id: np.ndarray,
    account: np.ndarray,
    is_expansion: np.ndarray,
    first_day: int,
    last_day: int,
) -> dict:
    """Renewal rate and revenue retention over a period of days [first_day, last_day].

    Contracts are given by their start/end day numbers (the end exclusive: a contract is active
    on the days start <= day < end), annual value in cents, status code (0 active, 1 renewed,
    2 churned) and the id of the contract each renews (-1 for none).
    - renewal: of the contracts ending in the period, the share renewed (some contract renews
      it), by count and by value;
    - GRR = (start ARR - churned - contraction) / start ARR and NRR adds expansion, over the
      contracts active at the period's start (start <= first_day < end), expansion contracts
      included: they are ARR too. A contract that ended in the period without a renewal is
      churned, whatever its status says: one that lapsed keeps the status ``active``, and the
      status is not needed otherwise (a renewed contract is one that another renews).
      Contraction and expansion are the change of value at renewal; expansion also counts
      expansion contracts started in the period for accounts that were customers at its start.
    """
    renewed_by = {int(r): i for i, r in enumerate(renews) if r >= 0}
    ending = np.flatnonzero((end >= first_day) & (end <= last_day))
    renewed_ending = [i for i in ending if int(contract_id[i]) in renewed_by]
    ending_value = float(cents[ending].sum()) / 100
    renewed_value = float(cents[renewed_ending].sum()) / 100

    active = np.flatnonzero((start <= first_day) & (first_day < end))
    start_arr = float(cents[active].sum()) / 100
    churned = contraction = expansion = 0.0
    for i in active:
        successor = renewed_by.get(int(contract_id[i]))
        if successor is not None:
            if start[successor] <= last_day:
                change = float(cents[successor] - cents[i]) / 100
                contraction += max(-change, 0.0)
                expansion += max(change, 0.0)
        elif end[i] <= last_day:
            churned += float(cents[i]) / 100
    customers = set(account[active].tolist())
    added = np.flatnonzero(is_expansion & (start > first_day) & (start <= last_day))
    expansion += sum(float(cents[i]) / 100 for i in added if int(account[i]) in customers)
    return {
        "contracts_ending": int(len(ending)),
        "contracts_renewed": len(renewed_ending),
        "renewal_rate": len(renewed_ending) / len(ending) if len(ending) else None,
        "renewal_rate_by_value": renewed_value / ending_value if ending_value else None,
        "start_arr": start_arr,
        "churned_arr": churned,
        "contraction_arr": contraction,
        "expansion_arr": expansion,
        "gross_revenue_retention": (start_arr - churned - contraction) / start_arr if start_arr else None,
        "net_revenue_retention": (start_arr - churned - contraction + expansion) / start_arr if start_arr else None,
    }
