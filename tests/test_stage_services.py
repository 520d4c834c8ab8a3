import pytest
from django.core.exceptions import ValidationError
from django.db.models.query import QuerySet

import funnel.services.moves as stage_services
from funnel.models import AppendOnlyError, StageEvent
from funnel.services import StageTransitionError, lead_reject, lead_stage_move
from funnel.stages import LEAD_TRANSITIONS, Stage
from leads.models import Lead

from .factories import LeadFactory
from .stage_paths import PATHS, lead_at, perform

LEGAL = sorted(
    (source, target)
    for source, targets in LEAD_TRANSITIONS.items()
    for target in targets
    # a new person is tested below; 'rejected' is never a resting stage (recycled at once)
    if source is not None and source != "rejected"
)


def test_every_stage_of_the_table_is_covered_by_the_paths():
    resting = {s for s in LEAD_TRANSITIONS if s is not None and s != "rejected"}
    assert resting == set(PATHS)


@pytest.mark.parametrize(("source", "target"), LEGAL, ids=[f"{s}->{t}" for s, t in LEGAL])
def test_every_legal_move_moves_the_lead_and_writes_the_ledger(scoped, source, target):
    lead, clock = lead_at(scoped, source)
    before = StageEvent.objects.filter(lead=lead).count()
    perform(scoped, lead, target, clock)
    events = list(StageEvent.objects.filter(lead=lead).order_by("id"))
    if target == "rejected":
        assert lead.stage == "recycled"
        assert [e.stage for e in events[before:]] == ["rejected", "recycled"]
    else:
        assert lead.stage == target
        assert [e.stage for e in events[before:]] == [target]
        assert events[-1].from_stage == source
    assert lead.stage_entered_at == events[-1].entered_at


@pytest.mark.parametrize("first", ["touched", "lead"])
def test_a_new_person_starts_touched_or_lead_with_a_ledger_row(scoped, first):
    lead = LeadFactory(workspace=scoped, stage=first)
    assert lead.stage == first
    event = StageEvent.objects.get(lead=lead)
    assert (event.stage, event.from_stage, event.entered_at) == (first, "", lead.stage_entered_at)


@pytest.mark.parametrize("first", ["mql", "sal", "won", "bogus"])
def test_a_new_person_cannot_start_further_down(scoped, first):
    with pytest.raises(ValidationError, match=first):
        LeadFactory(workspace=scoped, stage=first)
    assert Lead.objects.count() == 0


ILLEGAL = [
    ("touched", "mql"),
    ("touched", "sal"),
    ("lead", "won"),
    ("lead", "recycled"),
    ("mql", "opportunity"),
    ("mql", "lead"),
    ("sal", "won"),
    ("sal", "mql"),
    ("recycled", "sal"),
    ("disqualified", "lead"),
    ("won", "lost"),
    ("lost", "won"),
    ("renewed", "won"),
    ("churned", "renewed"),
]


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=[f"{s}->{t}" for s, t in ILLEGAL])
def test_an_illegal_move_is_refused_naming_both_stages_and_changes_nothing(scoped, source, target):
    lead, clock = lead_at(scoped, source)
    events_before = StageEvent.objects.count()
    with pytest.raises(StageTransitionError) as error:
        lead_stage_move(workspace=scoped, lead=lead, to_stage=target, entered_at=clock())
    assert f"from '{source}' to '{target}'" in str(error.value)
    lead.refresh_from_db()
    assert lead.stage == source
    assert StageEvent.objects.count() == events_before


def test_the_table_itself_refuses_every_pair_it_does_not_list():
    every_stage = [None, *Stage.values]
    refused = [(s, t) for s in every_stage for t in Stage.values if t not in LEAD_TRANSITIONS.get(s, ())]
    assert ("touched", "won") in refused and ("lead", "mql") not in refused
    for source, target in refused:
        assert not stage_services.lead_transition_allowed(source, target)


def test_an_unknown_stage_is_refused_listing_the_known_ones(scoped):
    lead = LeadFactory(workspace=scoped)
    with pytest.raises(ValidationError, match="Unknown stage 'qualified'. Known stages: touched, lead"):
        lead_stage_move(workspace=scoped, lead=lead, to_stage="qualified")


def test_a_deal_stage_must_name_its_opportunity(scoped):
    lead, clock = lead_at(scoped, "sal")
    with pytest.raises(ValidationError, match="names its opportunity"):
        lead_stage_move(workspace=scoped, lead=lead, to_stage="opportunity", entered_at=clock())
    assert Lead.objects.get(pk=lead.pk).stage == "sal"


def test_rejection_needs_a_known_reason_and_other_needs_a_note(scoped):
    lead, clock = lead_at(scoped, "mql")
    with pytest.raises(ValidationError, match="Unknown rejection reason 'meh'"):
        lead_reject(workspace=scoped, lead=lead, actor=None, reason="meh")
    with pytest.raises(ValidationError, match="needs a note"):
        lead_reject(workspace=scoped, lead=lead, actor=None, reason="other", note="  ")
    assert Lead.objects.get(pk=lead.pk).stage == "mql"
    lead_reject(workspace=scoped, lead=lead, actor=None, reason="other", note="Student, not a buyer")
    rejected = StageEvent.objects.get(lead=lead, stage="rejected")
    assert (rejected.reason, rejected.note) == ("other", "Student, not a buyer")


def test_rejected_and_recycled_are_written_at_the_same_instant(scoped):
    lead, clock = lead_at(scoped, "recycled")
    rejected = StageEvent.objects.get(lead=lead, stage="rejected")
    recycled = StageEvent.objects.get(lead=lead, stage="recycled")
    assert rejected.entered_at == recycled.entered_at
    assert recycled.source == "rule" and recycled.reason == rejected.reason


def test_a_backdated_move_before_the_current_stage_is_refused(scoped):
    lead, clock = lead_at(scoped, "mql")
    earlier = lead.stage_entered_at.replace(year=2020)
    with pytest.raises(ValidationError, match="cannot enter 'sal' earlier"):
        lead_stage_move(workspace=scoped, lead=lead, to_stage="sal", entered_at=earlier)


def test_imports_may_backdate_events_with_source_import(scoped):
    lead, clock = lead_at(scoped, "lead")
    when = clock()
    lead_stage_move(workspace=scoped, lead=lead, to_stage="mql", entered_at=when, source="import")
    event = StageEvent.objects.get(lead=lead, stage="mql")
    assert (event.entered_at, event.source) == (when, "import")
    assert event.recorded_at > when


def test_a_failed_stage_update_leaves_no_ledger_row(scoped, monkeypatch):
    lead, clock = lead_at(scoped, "mql")
    real_update = QuerySet.update

    def failing_update(self, **kwargs):
        if self.model is Lead and "stage" in kwargs:
            raise RuntimeError("database went away")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", failing_update)
    with pytest.raises(RuntimeError):
        lead_stage_move(workspace=scoped, lead=lead, to_stage="sal", entered_at=clock())
    assert not StageEvent.objects.filter(lead=lead, stage="sal").exists()
    assert Lead.objects.get(pk=lead.pk).stage == "mql"


def test_a_failed_recycle_undoes_the_rejection_too(scoped, monkeypatch):
    lead, clock = lead_at(scoped, "mql")
    real_append = stage_services._append

    def append_failing_on_recycle(**kwargs):
        if kwargs["stage"] == "recycled":
            raise RuntimeError("crash between the two rows")
        return real_append(**kwargs)

    monkeypatch.setattr(stage_services, "_append", append_failing_on_recycle)
    with pytest.raises(RuntimeError):
        lead_reject(workspace=scoped, lead=lead, actor=None, reason="timing", entered_at=clock())
    assert not StageEvent.objects.filter(lead=lead, stage__in=["rejected", "recycled"]).exists()
    assert Lead.objects.get(pk=lead.pk).stage == "mql"


def test_ledger_rows_cannot_be_edited_or_deleted(scoped):
    lead = LeadFactory(workspace=scoped)
    event = StageEvent.objects.get(lead=lead)
    event.note = "rewritten history"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert StageEvent.objects.get(pk=event.pk).note == ""


def test_the_service_itself_refuses_a_rejection_without_a_reason_and_an_unknown_source(scoped):
    """Not only ``lead_reject``: every caller of the one service that moves a lead."""
    lead, clock = lead_at(scoped, "mql")
    with pytest.raises(ValidationError, match="needs a reason"):
        lead_stage_move(workspace=scoped, lead=lead, to_stage="rejected", entered_at=clock())
    with pytest.raises(ValidationError, match="Unknown source 'bogus'"):
        lead_stage_move(workspace=scoped, lead=lead, to_stage="sal", entered_at=clock(), source="bogus")
    assert Lead.objects.get(pk=lead.pk).stage == "mql"
    assert not StageEvent.objects.filter(lead=lead, stage__in=["rejected", "sal"]).exists()
