"""Hand-worked cases for every attribution model (pure functions, no database)."""

import numpy as np
import pytest

from attribution.rules import (
    DAY_MS,
    POSITION_MODELS,
    candidates,
    last_rank_at_or_before,
    markov_removal_effects,
    weights,
)

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC in ms


def day(n: float) -> int:
    return T0 + int(n * DAY_MS)


def one_conversion(times, conv_time, lookback_days=365):
    """The candidates of one conversion (key 1) among touches of key 1 at ``times``."""
    times = np.array(sorted(times), dtype=np.int64)
    return candidates(
        np.ones(len(times), np.int64), times, np.array([1]), np.array([conv_time]), lookback_days * DAY_MS
    ), times


def test_single_touch_gets_everything_in_every_model():
    cands, times = one_conversion([day(0)], day(3))
    for model in POSITION_MODELS:
        w = weights(
            model,
            cands,
            touch_time=times,
            conv_time=np.array([day(3)]),
            lead_rank=np.array([0]),
            opportunity_rank=np.array([0]),
        )
        assert w == pytest.approx([1.0]), model


def test_two_touches_hand_worked():
    cands, times = one_conversion([day(0), day(7)], day(7))
    conv = np.array([day(7)])
    assert weights("first_touch", cands).tolist() == [1.0, 0.0]
    assert weights("last_touch", cands).tolist() == [0.0, 1.0]
    assert weights("linear", cands).tolist() == [0.5, 0.5]
    assert weights("position_based", cands).tolist() == [0.5, 0.5]
    # 7 days at a 7-day half-life weighs 1/2 against 1: 1/3 and 2/3
    assert weights("time_decay", cands, touch_time=times, conv_time=conv, half_life_days=7) == pytest.approx(
        [1 / 3, 2 / 3]
    )


def test_position_based_with_four_touches():
    cands, _ = one_conversion([day(0), day(1), day(2), day(3)], day(4))
    assert weights("position_based", cands) == pytest.approx([0.4, 0.1, 0.1, 0.4])


def test_touches_after_the_conversion_and_outside_the_lookback_are_not_candidates():
    times = [day(-400), day(-10), day(0), day(1)]
    cands, sorted_times = one_conversion(times, day(0), lookback_days=365)
    assert sorted_times[cands.touch].tolist() == [day(-10), day(0)]  # at the conversion counts
    no_limit, _ = one_conversion(times, day(0), lookback_days=0)
    assert sorted_times[no_limit.touch].tolist() == [day(-400), day(-10), day(0)]


def test_ties_in_time_keep_the_given_id_order():
    # two touches at the same instant: the caller sorts by (time, id); rank follows that order
    cands = candidates(np.array([5, 5]), np.array([day(0), day(0)]), np.array([5]), np.array([day(1)]), 0)
    assert cands.touch.tolist() == [0, 1]
    assert weights("first_touch", cands).tolist() == [1.0, 0.0]


def test_a_conversion_with_no_touch_has_no_candidates():
    cands = candidates(np.array([1, 1]), np.array([day(0), day(1)]), np.array([2, 1]), np.array([day(5), day(-1)]), 0)
    assert cands.counts.tolist() == [0, 0]
    assert len(cands.conversion) == 0


def test_many_conversions_are_grouped_and_ordered():
    keys = np.array([1, 1, 1, 2, 2, 3])
    times = np.array([day(0), day(1), day(2), day(0), day(5), day(1)])
    cands = candidates(keys, times, np.array([2, 1, 3]), np.array([day(4), day(1), day(0)]), 0)
    assert cands.counts.tolist() == [1, 2, 0]
    assert cands.conversion.tolist() == [0, 1, 1]
    assert cands.touch.tolist() == [3, 0, 1]
    assert weights("linear", cands).tolist() == [1.0, 0.5, 0.5]


def test_repeated_channel_gets_two_linear_shares():
    cands, _ = one_conversion([day(0), day(1), day(2)], day(3))
    channel = np.array([7, 7, 9])
    credit = np.bincount(channel[cands.touch], weights("linear", cands), minlength=10)
    assert credit[7] == pytest.approx(2 / 3) and credit[9] == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("n", "lead_rank", "opp_rank", "expected"),
    [
        # distinct positions with others between: 30/30/30 and 10% shared by the two others
        (5, 2, 4, [0.3, 0.05, 0.3, 0.05, 0.3]),
        # two candidates, the first is also the lead-creation touch: 65% and 35% (issue's example)
        (2, 0, 1, [0.65, 0.35]),
        # one touch holds all three positions and takes the 10% too
        (1, 0, 0, [1.0]),
        # no opportunity-creation touch: its 30% shared by the holders (first and lead)
        (4, 1, -1, [0.45, 0.45, 0.05, 0.05]),
        # lead and opportunity creation coincide on the last; the middle touch takes the 10%
        (3, 2, 2, [0.3, 0.1, 0.6]),
    ],
)
def test_w_shaped_hand_worked(n, lead_rank, opp_rank, expected):
    cands, _ = one_conversion([day(i) for i in range(n)], day(n))
    w = weights("w_shaped", cands, lead_rank=np.array([lead_rank]), opportunity_rank=np.array([opp_rank]))
    assert w == pytest.approx(expected)
    assert w.sum() == pytest.approx(1.0)


def test_w_shaped_without_positions_is_u_shaped():
    cands, _ = one_conversion([day(i) for i in range(4)], day(4))
    assert weights("w_shaped", cands) == pytest.approx(weights("position_based", cands))


def test_last_rank_at_or_before_finds_the_creation_touches():
    cands, times = one_conversion([day(0), day(2), day(4)], day(5))
    assert last_rank_at_or_before(cands, times, np.array([day(2)])).tolist() == [1]
    assert last_rank_at_or_before(cands, times, np.array([day(-1)])).tolist() == [-1]


def test_time_decay_survives_very_old_touches():
    cands, times = one_conversion([day(-10000), day(-9999)], day(0), lookback_days=0)
    w = weights("time_decay", cands, touch_time=times, conv_time=np.array([day(0)]), half_life_days=7)
    assert np.isfinite(w).all() and w.sum() == pytest.approx(1.0)


def test_markov_three_channels_solved_by_hand():
    """Paths: A>B converts, A>C null, B converts, C>B null.
    From start: A 1/2, B 1/4, C 1/4. A: B 1/2, C 1/2. B: conv 2/3, null 1/3. C: B 1/2, null 1/2.
    P(conv|B)=2/3; P(conv|C)=1/3; P(conv|A)=1/2; P(start)=1/4+1/6+1/12=1/2.
    Without A: start->A goes to null: 1/6+1/12=1/4 -> effect 1/2.
    Without B: nothing reaches conversion -> effect 1.
    Without C: 1/2*(1/2*2/3) + 1/4*2/3 = 1/3 -> effect 1/3."""
    path_id = np.array([0, 0, 1, 1, 2, 3, 3])
    channel = np.array([0, 1, 0, 2, 1, 2, 1])
    converted = np.array([True, False, True, False])
    effects = markov_removal_effects(path_id, channel, converted, 3)
    assert effects == pytest.approx([1 / 2, 1, 1 / 3])
    credit = effects / effects.sum() * 2  # two conversions
    assert credit == pytest.approx([6 / 11, 12 / 11, 4 / 11])


def test_markov_with_nothing_converting_gives_no_credit():
    effects = markov_removal_effects(np.array([0, 1]), np.array([0, 1]), np.array([False, False]), 2)
    assert effects.tolist() == [0.0, 0.0]
