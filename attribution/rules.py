"""The attribution rules: pure functions over arrays of touches (no ORM), so they can be
tested alone and run on any engine.

Conventions: times are int64 milliseconds since the epoch. Touches are given sorted by
(key, time, touch id), where the key is the lead (level ``lead``) or the account (levels
``opportunity`` and ``revenue``). A conversion has a key, a time and a value. Its candidate
touches are the touches of its key at or before its time and inside the lookback window, in
(time, id) order. Candidates are flattened into rows grouped by conversion:
``Candidates.conversion[i]`` is the conversion of row i and ``Candidates.touch[i]`` the index
of its touch; rows of one conversion are contiguous and in time order.
"""

from dataclasses import dataclass

import numpy as np

DAY_MS = 86_400_000
POSITION_MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "w_shaped")
MODELS = (*POSITION_MODELS, "markov")


@dataclass(frozen=True)
class Candidates:
    conversion: np.ndarray  # int64, non-decreasing
    touch: np.ndarray  # int64 index into the touch arrays
    rank: np.ndarray  # int64 position of the row inside its conversion (0 = first)
    size: np.ndarray  # int64 number of candidates of the row's conversion
    counts: np.ndarray  # int64 per conversion: how many candidates it has
    starts: np.ndarray  # int64 per conversion: index of its first row


def pair_keys(n_keys: int, *pairs: tuple[np.ndarray, np.ndarray]) -> list[np.ndarray]:
    """One int64 per (key, time) that orders as the pair does (key first, then time), for each
    ``(keys, times)`` of ``pairs``, all on one scale so they can be searched in one another.

    Keys run from -1 to ``n_keys - 1``. The key (plus one) takes the high bits and the time's
    offset from the earliest time given the low bits: one shift and one OR per pair. When the
    two need more than 63 bits (a span of centuries in milliseconds, or millions of keys over
    decades), each time is first replaced by its rank among all the times given, which orders
    and ties them the same, at the cost of one sort: so any span is taken, exactly.
    """
    times = [np.asarray(t, dtype=np.int64) for _, t in pairs]
    given = [t for t in times if len(t)]
    origin = min((int(t.min()) for t in given), default=0)
    span = max((int(t.max()) for t in given), default=0) - origin
    if max(int(n_keys), 1).bit_length() + span.bit_length() <= 63:
        shift, offsets = span.bit_length(), [t - origin for t in times]
    else:
        # more distinct times than 2**63 / n_keys cannot be held in memory, so the ranks fit
        _, ranks = np.unique(np.concatenate(times), return_inverse=True)
        shift = int(ranks.max()).bit_length()
        offsets = np.split(ranks.ravel().astype(np.int64), np.cumsum([len(t) for t in times])[:-1])
    packed = []
    for (keys, _), offset in zip(pairs, offsets, strict=True):
        key = np.asarray(keys, dtype=np.int64) + 1  # a new array, shifted and filled in place
        key <<= shift
        key |= offset
        packed.append(key)
    return packed


def _dense(keys: np.ndarray, universe: np.ndarray) -> np.ndarray:
    """Rank of each key inside the sorted, non-empty ``universe``; -1 for keys absent from it."""
    position = np.minimum(np.searchsorted(universe, keys), len(universe) - 1)
    return np.where(universe[position] == keys, position, -1).astype(np.int64)


def candidates(
    touch_key: np.ndarray,
    touch_time: np.ndarray,
    conv_key: np.ndarray,
    conv_time: np.ndarray,
    lookback_ms: int,
) -> Candidates:
    """Candidate touches of every conversion, by binary search over the sorted touches.

    ``lookback_ms`` of 0 means no limit. Touch arrays must be sorted by (key, time, id).
    """
    touch_key = np.asarray(touch_key, dtype=np.int64)
    touch_time = np.asarray(touch_time, dtype=np.int64)
    conv_key = np.asarray(conv_key, dtype=np.int64)
    conv_time = np.asarray(conv_time, dtype=np.int64)
    n_conv = len(conv_key)
    if len(touch_key) == 0 or n_conv == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Candidates(empty, empty, empty, empty, np.zeros(n_conv, np.int64), np.zeros(n_conv, np.int64))
    # The touches are sorted by key already, so the key ranks come from the boundaries.
    boundary = np.r_[True, touch_key[1:] != touch_key[:-1]]
    universe = touch_key[boundary]
    touch_rank = np.cumsum(boundary) - 1
    conv_rank = _dense(conv_key, universe)
    if lookback_ms > 0:
        lows = conv_time - lookback_ms
    else:
        lows = np.full(n_conv, min(int(touch_time.min()), int(conv_time.min())), dtype=np.int64)
    composite, first, last = pair_keys(
        len(universe), (touch_rank, touch_time), (conv_rank, lows), (conv_rank, conv_time)
    )
    start = np.searchsorted(composite, first, side="left")
    stop = np.searchsorted(composite, last, side="right")
    counts = np.where(conv_rank >= 0, stop - start, 0).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    total = int(counts.sum())
    conversion = np.repeat(np.arange(n_conv, dtype=np.int64), counts)
    rank = np.arange(total, dtype=np.int64) - np.repeat(starts, counts)
    touch = np.repeat(start, counts) + rank
    size = np.repeat(counts, counts)
    return Candidates(conversion, touch, rank, size, counts, starts)


def last_rank_at_or_before(cands: Candidates, touch_time: np.ndarray, moment: np.ndarray) -> np.ndarray:
    """Per conversion: the rank of its last candidate at or before ``moment`` (per conversion),
    or -1 when it has none. Used for the W-shaped lead- and opportunity-creation touches."""
    times = np.asarray(touch_time, dtype=np.int64)[cands.touch]
    before = times <= np.asarray(moment, dtype=np.int64)[cands.conversion]
    # the candidates are in time order, so the last qualifying rank is the count of them minus one
    qualifying = np.bincount(cands.conversion[before], minlength=len(cands.counts))
    return qualifying.astype(np.int64) - 1


def weights(
    model: str,
    cands: Candidates,
    *,
    touch_time: np.ndarray | None = None,
    conv_time: np.ndarray | None = None,
    half_life_days: float = 7.0,
    lead_rank: np.ndarray | None = None,
    opportunity_rank: np.ndarray | None = None,
) -> np.ndarray:
    """The weight of every candidate row under ``model``; each conversion's weights sum to 1.

    ``w_shaped`` needs the per-conversion ranks of the lead-creation and opportunity-creation
    touches (-1 where there is none); without them (level ``lead``) it is ``position_based``.
    """
    rank, size = cands.rank, cands.size
    if model == "first_touch":
        return (rank == 0).astype(np.float64)
    if model == "last_touch":
        return (rank == size - 1).astype(np.float64)
    if model == "linear":
        return 1.0 / size
    if model == "time_decay":
        if touch_time is None or conv_time is None:
            raise ValueError("time_decay needs touch_time and conv_time")
        days = (np.asarray(conv_time)[cands.conversion] - np.asarray(touch_time)[cands.touch]) / DAY_MS
        # Shift by each conversion's smallest distance before exponentiating: the ratios are the
        # same, and very old touches cannot underflow every weight of a conversion to zero.
        # candidates are in time order: the nearest touch is each conversion's last row
        last_row = cands.starts + np.maximum(cands.counts - 1, 0)
        nearest = np.where(cands.counts > 0, days[np.minimum(last_row, max(len(days) - 1, 0))] if len(days) else 0, 0)
        raw = np.exp2(-(days - nearest[cands.conversion]) / half_life_days)
        return raw / np.bincount(cands.conversion, raw, minlength=len(cands.counts))[cands.conversion]
    if model == "position_based" or (model == "w_shaped" and lead_rank is None):
        middle = np.where(size > 2, 0.2 / np.maximum(size - 2, 1), 0.0)
        ends = np.where(size == 1, 1.0, np.where(size == 2, 0.5, 0.4))
        return np.where((rank == 0) | (rank == size - 1), ends, middle)
    if model == "w_shaped":
        return _w_shaped(cands, lead_rank, opportunity_rank)
    raise ValueError(f"Unknown attribution model '{model}'. Known: {', '.join(MODELS)}.")


def _w_shaped(cands: Candidates, lead_rank: np.ndarray, opportunity_rank: np.ndarray) -> np.ndarray:
    """30% each to the first, lead-creation and opportunity-creation touches (a touch holding two
    positions takes both shares); a missing position's 30% goes equally to the distinct touches
    holding a position; 10% to the other touches equally, or, when there are none, equally to
    the distinct position holders."""
    rank, size, conv = cands.rank, cands.size, cands.conversion
    lead_rank = np.asarray(lead_rank, dtype=np.int64)
    opportunity_rank = np.asarray(opportunity_rank, dtype=np.int64)
    row_lead, row_opp = lead_rank[conv], opportunity_rank[conv]
    holds = (rank == 0).astype(np.float64) + (rank == row_lead) + (rank == row_opp)
    is_holder = holds > 0
    holders = np.bincount(conv, is_holder.astype(np.float64), minlength=len(cands.counts))[conv]
    missing = (row_lead < 0).astype(np.float64) + (row_opp < 0)
    others = size - holders
    share = 0.3 * holds + np.where(is_holder, 0.3 * missing / holders, 0.0)
    share += np.where(others > 0, np.where(is_holder, 0.0, 0.1 / np.maximum(others, 1)), 0.1 / holders * is_holder)
    return share


# --- Markov ------------------------------------------------------------------------------


def markov_removal_effects(
    path_id: np.ndarray, path_channel: np.ndarray, path_converted: np.ndarray, n_channels: int
) -> np.ndarray:
    """Removal effect of every channel in a first-order Markov chain over channel paths.

    ``path_id``/``path_channel`` are the rows of every path in order (rows of one path
    contiguous); ``path_converted`` says, per path id, whether it ended in a conversion (else
    null). Channels are 0..n_channels-1. States: start, the channels, conversion, null. The
    conversion probability from start is solved exactly from the absorbing chain, with all
    paths and again with each channel removed (its incoming transitions sent to null).
    Returns removal effects (1 - p_without / p) per channel; zeros when nothing converts.
    """
    path_id = np.asarray(path_id, dtype=np.int64)
    path_channel = np.asarray(path_channel, dtype=np.int64)
    converted = np.asarray(path_converted, dtype=bool)
    k = n_channels
    start, conv, null = k, k + 1, k + 2
    width = k + 3
    counts = np.zeros((k + 1) * width, dtype=np.float64)
    if len(path_id):
        first_row = np.r_[True, path_id[1:] != path_id[:-1]]
        last_row = np.r_[path_id[1:] != path_id[:-1], True]
        inner = ~last_row[:-1]
        ends = np.where(converted[path_id[last_row]], conv, null)
        transitions = np.concatenate(
            [
                start * width + path_channel[first_row],
                path_channel[:-1][inner] * width + path_channel[1:][inner],
                path_channel[last_row] * width + ends,
            ]
        )
        counts += np.bincount(transitions, minlength=len(counts))
    counts = counts.reshape(k + 1, width)
    base = _conversion_probability(counts, k)
    effects = np.zeros(k)
    if base <= 0:
        return effects
    for channel in range(k):
        removed = counts.copy()
        removed[:, null] += removed[:, channel]
        removed[:, channel] = 0.0
        removed[channel, :] = 0.0
        effects[channel] = 1.0 - _conversion_probability(removed, k) / base
    return np.clip(effects, 0.0, None)


def _conversion_probability(counts: np.ndarray, k: int) -> float:
    """P(absorbed in conversion | start) for transition counts over states
    [channels 0..k-1, start k] (rows) and [channels, start, conversion, null] (columns)."""
    totals = counts.sum(axis=1, keepdims=True)
    probabilities = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    transient = probabilities[:, : k + 1]  # channels and start (nothing returns to start)
    to_conversion = probabilities[:, k + 1]
    solution = np.linalg.solve(np.eye(k + 1) - transient, to_conversion)
    return float(solution[k])
