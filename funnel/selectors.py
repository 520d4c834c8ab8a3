from django.db.models import Count

from leads.models import Lead

from .models import StageEvent
from .stages import EXIT_STAGES, FUNNEL_STAGES, Stage


def stage_counts(workspace) -> list[dict]:
    """How many leads sit in each stage now, in funnel order then exits (one grouped query)."""
    counts = dict(Lead.objects.filter(merged_into__isnull=True).values_list("stage").annotate(n=Count("id")).order_by())
    return [
        {"stage": stage, "label": Stage(stage).label, "count": counts.get(stage, 0), "is_exit": stage in EXIT_STAGES}
        for stage in FUNNEL_STAGES + EXIT_STAGES
    ]


def latest_activity(workspace, *, limit: int = 20):
    """The newest ledger rows with their lead, account and actor (one query)."""
    return StageEvent.objects.select_related("lead", "account", "actor", "opportunity").order_by("-entered_at", "-id")[
        :limit
    ]
