"""The stage services: the only code that moves a lead or an opportunity (``moves``), the
import of backdated history into the ledger (``history``), and the bulk upserts of
opportunities and stage events (``upserts``)."""

from .history import HistoryEntry, ledger_import
from .moves import (
    DEAL_STAGES,
    StageTransitionError,
    lead_accept,
    lead_first_event,
    lead_reject,
    lead_stage_move,
    opportunity_create,
    opportunity_lose,
    opportunity_move,
    opportunity_win,
)
from .upserts import opportunities_upsert, stage_events_upsert

__all__ = [
    "DEAL_STAGES",
    "HistoryEntry",
    "StageTransitionError",
    "lead_accept",
    "lead_first_event",
    "lead_reject",
    "lead_stage_move",
    "ledger_import",
    "opportunity_create",
    "opportunity_lose",
    "opportunity_move",
    "opportunity_win",
    "opportunities_upsert",
    "stage_events_upsert",
]
