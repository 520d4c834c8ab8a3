from funnel.services import lead_accept, lead_stage_move
from funnel.stages import Stage

from .factories import LeadFactory


def test_lead_moves_to_mql_then_sal_writing_the_ledger(scoped):
    lead = LeadFactory(workspace=scoped)
    lead_stage_move(workspace=scoped, lead=lead, to_stage=Stage.MQL)
    lead_accept(workspace=scoped, lead=lead, actor=None)
    lead.refresh_from_db()
    assert lead.stage == "sal"
    assert list(lead.stage_events.values_list("stage", flat=True)) == ["lead", "mql", "sal"]
