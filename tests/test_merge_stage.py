"""lead_merge: the survivor keeps the furthest funnel stage either person reached, never moving
back (a lead merged with a touched record stays a lead); on a tie, the newer entry's stage."""

import datetime as dt

import pytest

from funnel.services import lead_accept, lead_reject, lead_stage_move
from leads.services import lead_create, lead_merge

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _days(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def test_a_lead_merged_with_a_newer_touched_record_stays_a_lead(scoped):
    keep = lead_create(workspace=scoped, email="pat@acme.test", stage="lead", entered_at=_days(0))
    gone = lead_create(workspace=scoped, email="pat.doe@acme.test", stage="touched", entered_at=_days(3))
    lead_merge(workspace=scoped, survivor=keep, loser=gone)
    keep.refresh_from_db()
    assert (keep.stage, keep.stage_entered_at) == ("lead", _days(0))


def test_a_touched_survivor_takes_the_losers_further_stage(scoped):
    keep = lead_create(workspace=scoped, email="pat@acme.test", stage="touched", entered_at=_days(5))
    gone = lead_create(workspace=scoped, email="pat.doe@acme.test", stage="lead", entered_at=_days(0))
    lead_stage_move(workspace=scoped, lead=gone, to_stage="mql", entered_at=_days(1))
    lead_merge(workspace=scoped, survivor=keep, loser=gone)
    keep.refresh_from_db()
    assert (keep.stage, keep.stage_entered_at) == ("mql", _days(1))


def test_the_person_who_went_further_keeps_their_current_exit(scoped):
    """Rejected at SAL (now recycled) beats a newer MQL: the further person's newest entry."""
    keep = lead_create(workspace=scoped, email="pat@acme.test", stage="lead", entered_at=_days(0))
    lead_stage_move(workspace=scoped, lead=keep, to_stage="mql", entered_at=_days(8))
    gone = lead_create(workspace=scoped, email="pat.doe@acme.test", stage="lead", entered_at=_days(0))
    lead_stage_move(workspace=scoped, lead=gone, to_stage="mql", entered_at=_days(1))
    lead_accept(workspace=scoped, lead=gone, actor=None, entered_at=_days(2))
    lead_reject(workspace=scoped, lead=gone, actor=None, reason="timing", entered_at=_days(3))
    lead_merge(workspace=scoped, survivor=keep, loser=gone)
    keep.refresh_from_db()
    assert (keep.stage, keep.stage_entered_at) == ("recycled", _days(3))


@pytest.mark.parametrize("newer", ["survivor", "loser"])
def test_on_a_tie_the_newer_entry_wins(scoped, newer):
    keep = lead_create(workspace=scoped, email="pat@acme.test", stage="lead", entered_at=_days(0))
    gone = lead_create(workspace=scoped, email="pat.doe@acme.test", stage="lead", entered_at=_days(0))
    lead_stage_move(workspace=scoped, lead=keep, to_stage="mql", entered_at=_days(1))
    lead_stage_move(workspace=scoped, lead=gone, to_stage="mql", entered_at=_days(1))
    later = keep if newer == "survivor" else gone
    lead_stage_move(
        workspace=scoped,
        lead=later,
        to_stage="disqualified" if newer == "survivor" else "rejected",
        entered_at=_days(4),
        reason="" if newer == "survivor" else "timing",
    )
    lead_merge(workspace=scoped, survivor=keep, loser=gone)
    keep.refresh_from_db()
    expected = "disqualified" if newer == "survivor" else "recycled"
    assert (keep.stage, keep.stage_entered_at) == (expected, _days(4))
