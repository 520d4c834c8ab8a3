"""Property tests of the attribution rules over random touch histories."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.rules import (
    DAY_MS,
    POSITION_MODELS,
    candidates,
    last_rank_at_or_before,
    markov_removal_effects,
    weights,
)

T0 = 1_767_225_600_000

touches_strategy = st.lists(
    st.tuples(st.integers(1, 6), st.integers(0, 60 * 24)),  # key, minutes*60 offset (hours)
    min_size=0,
    max_size=40,
)
conversions_strategy = st.lists(st.tuples(st.integers(1, 7), st.integers(0, 60 * 24)), min_size=1, max_size=12)


def _arrays(touch_rows, conv_rows):
    rows = sorted((key, T0 + hours * 3_600_000, i) for i, (key, hours) in enumerate(touch_rows))
    tk = np.array([r[0] for r in rows], dtype=np.int64)
    tt = np.array([r[1] for r in rows], dtype=np.int64)
    ck = np.array([c[0] for c in conv_rows], dtype=np.int64)
    ct = np.array([T0 + c[1] * 3_600_000 for c in conv_rows], dtype=np.int64)
    return tk, tt, ck, ct


def _all_weights(tk, tt, ck, ct, lookback_days):
    cands = candidates(tk, tt, ck, ct, lookback_days * DAY_MS)
    lead_rank = last_rank_at_or_before(cands, tt, ct - 5 * DAY_MS)
    opp_rank = last_rank_at_or_before(cands, tt, ct)
    result = {}
    for model in POSITION_MODELS:
        result[model] = weights(
            model, cands, touch_time=tt, conv_time=ct, half_life_days=7, lead_rank=lead_rank, opportunity_rank=opp_rank
        )
    return cands, result


@settings(max_examples=150, deadline=None)
@given(touches_strategy, conversions_strategy, st.sampled_from([0, 3, 30, 365]))
def test_each_conversions_weights_sum_to_one_and_candidates_obey_the_window(touch_rows, conv_rows, lookback):
    tk, tt, ck, ct = _arrays(touch_rows, conv_rows)
    cands, by_model = _all_weights(tk, tt, ck, ct, lookback)
    for model, w in by_model.items():
        sums = np.bincount(cands.conversion, w, minlength=len(ck))
        assert np.allclose(sums[cands.counts > 0], 1.0), model
        assert (w >= -1e-12).all(), model
    # brute force: the candidates are exactly the key's touches in the window
    for c in range(len(ck)):
        low = ct[c] - lookback * DAY_MS if lookback else -(2**62)
        expected = [i for i in range(len(tk)) if tk[i] == ck[c] and low <= tt[i] <= ct[c]]
        assert cands.touch[cands.conversion == c].tolist() == expected


@settings(max_examples=100, deadline=None)
@given(touches_strategy, conversions_strategy, st.randoms(use_true_random=False))
def test_the_order_of_conversions_changes_no_conversions_credit(touch_rows, conv_rows, rnd):
    tk, tt, ck, ct = _arrays(touch_rows, conv_rows)
    order = list(range(len(ck)))
    rnd.shuffle(order)
    cands_a, a = _all_weights(tk, tt, ck, ct, 30)
    cands_b, b = _all_weights(tk, tt, ck[order], ct[order], 30)
    for model in POSITION_MODELS:
        for new, old in enumerate(order):
            wa = a[model][cands_a.conversion == old]
            wb = b[model][cands_b.conversion == new]
            assert np.allclose(wa, wb), model


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=6), min_size=1, max_size=15),
    st.lists(st.booleans(), min_size=15, max_size=15),
)
def test_markov_removal_effects_are_between_zero_and_one(paths, converted):
    path_id = np.repeat(np.arange(len(paths)), [len(p) for p in paths])
    channel = np.concatenate([np.array(p) for p in paths])
    effects = markov_removal_effects(path_id, channel, np.array(converted[: len(paths)]), 4)
    assert ((effects >= 0) & (effects <= 1 + 1e-9)).all()
    if any(converted[: len(paths)]):
        assert effects.sum() > 0
