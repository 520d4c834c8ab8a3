"""The stage identifiers and the transition table of docs/design.md, held in this one place.

Only ``funnel.services`` moves a lead; it asks ``lead_transition_allowed`` first."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    # funnel stages, in order
    TOUCHED = "touched", _("Touched")
    LEAD = "lead", _("Lead")
    MQL = "mql", _("MQL")
    SAL = "sal", _("SAL")
    OPPORTUNITY = "opportunity", _("Opportunity")
    WON = "won", _("Won")
    RENEWED = "renewed", _("Renewed")
    # exits
    REJECTED = "rejected", _("Rejected")
    RECYCLED = "recycled", _("Recycled")
    DISQUALIFIED = "disqualified", _("Disqualified")
    LOST = "lost", _("Lost")
    CHURNED = "churned", _("Churned")


FUNNEL_STAGES: tuple[str, ...] = ("touched", "lead", "mql", "sal", "opportunity", "won", "renewed")
EXIT_STAGES: tuple[str, ...] = ("rejected", "recycled", "disqualified", "lost", "churned")

# None stands for "a new person, no stage yet".
LEAD_TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"touched", "lead"}),
    "touched": frozenset({"lead", "disqualified"}),
    "lead": frozenset({"mql", "sal", "disqualified"}),
    "mql": frozenset({"sal", "rejected", "disqualified"}),
    "rejected": frozenset({"recycled"}),
    "recycled": frozenset({"mql", "disqualified"}),
    "sal": frozenset({"opportunity", "rejected", "disqualified"}),
    "opportunity": frozenset({"won", "lost"}),
    "lost": frozenset({"recycled", "opportunity"}),
    "won": frozenset({"renewed", "churned", "opportunity"}),
    "renewed": frozenset({"renewed", "churned"}),
    "churned": frozenset({"opportunity"}),
    "disqualified": frozenset(),
}


def lead_transition_allowed(from_stage: str | None, to_stage: str) -> bool:
    return to_stage in LEAD_TRANSITIONS.get(from_stage, frozenset())


def _forward(from_stage: str, to_stage: str) -> bool:
    """Further down the funnel: into an exit, out of an exit, or to a later funnel stage."""
    if to_stage in EXIT_STAGES or from_stage not in FUNNEL_STAGES:
        return True
    return to_stage in FUNNEL_STAGES and FUNNEL_STAGES.index(to_stage) > FUNNEL_STAGES.index(from_stage)


def _past_unrecorded_stages(origin: str) -> frozenset[str]:
    """The stages a history may reach from ``origin`` through funnel stages it never recorded:
    each implied stage a move of the table, each one further down the funnel than the last."""
    reached: set[str] = set()
    implied = [stage for stage in LEAD_TRANSITIONS[origin] if stage in FUNNEL_STAGES and _forward(origin, stage)]
    seen: set[str] = set()
    while implied:
        stage = implied.pop()
        if stage in seen:
            continue
        seen.add(stage)
        for following in LEAD_TRANSITIONS[stage]:
            if _forward(stage, following):
                reached.add(following)
                if following in FUNNEL_STAGES:
                    implied.append(following)
    return frozenset(reached)


# The moves a history import may record beyond the table's (docs/design.md): forward past funnel
# stages never recorded, which the funnel then counts as reached at the next stage's time. Never
# out of a terminal exit, never backward, and a person's first entry is still touched or lead.
HISTORY_SKIPS: dict[str, frozenset[str]] = {
    stage: _past_unrecorded_stages(stage) for stage in LEAD_TRANSITIONS if stage is not None
}


def lead_history_move_allowed(from_stage: str | None, to_stage: str) -> bool:
    """A move of an imported history: one the table allows, or one forward past stages never
    recorded (``HISTORY_SKIPS``). Live moves ask ``lead_transition_allowed``."""
    return lead_transition_allowed(from_stage, to_stage) or (
        from_stage is not None and to_stage in HISTORY_SKIPS.get(from_stage, frozenset())
    )


class OpportunityKind(models.TextChoices):
    NEW_BUSINESS = "new_business", _("New business")
    RENEWAL = "renewal", _("Renewal")
    EXPANSION = "expansion", _("Expansion")


class OpportunityStage(models.TextChoices):
    QUALIFICATION = "qualification", _("Qualification")
    PROPOSAL = "proposal", _("Proposal")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


OPEN_OPPORTUNITY_STAGES: tuple[str, ...] = ("qualification", "proposal", "negotiation")

# An open deal may move forward or back between the open stages, and close from any of them.
OPPORTUNITY_TRANSITIONS: dict[str, frozenset[str]] = {
    open_stage: frozenset(set(OPEN_OPPORTUNITY_STAGES) - {open_stage} | {"won", "lost"})
    for open_stage in OPEN_OPPORTUNITY_STAGES
} | {"won": frozenset(), "lost": frozenset()}


class LostReason(models.TextChoices):
    PRICE = "price", _("Price")
    COMPETITOR = "competitor", _("Competitor")
    NO_DECISION = "no_decision", _("No decision")
    TIMING = "timing", _("Timing")
    PRODUCT_GAP = "product_gap", _("Product gap")
    OTHER = "other", _("Other")


class RejectionReason(models.TextChoices):
    NOT_ICP = "not_icp", _("Not our ideal customer")
    NO_BUDGET = "no_budget", _("No budget")
    BAD_CONTACT_DATA = "bad_contact_data", _("Bad contact data")
    DUPLICATE = "duplicate", _("Duplicate")
    TIMING = "timing", _("Timing")
    OTHER = "other", _("Other (needs a note)")


class EventSource(models.TextChoices):
    UI = "ui", _("Browser")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    RULE = "rule", _("Rule")


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RENEWED = "renewed", _("Renewed")
    CHURNED = "churned", _("Churned")
