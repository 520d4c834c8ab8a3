"""Set-based rescoring: a whole set of leads (a few touched ones, or a whole workspace) is read in
two bulk queries (the leads with their fit points, computed in SQL from the rules; the touches in
the engagement window as arrays), scored with ``leads.scoring``'s NumPy maths, and only the leads
whose score changed are written, in batches (each write reaches the change feed through the
``sync_version`` trigger). No query per lead, except the stage move and handoff of the few that
qualify.

Callers: ``leads.services.leads_rescore`` (after touches, merges, new leads and changed
seniority or account), the rescore job after a rule change and the nightly task
(``leads.scoring_services``) and the scoring page's preview. One lead's explanation is
``leads.scoring.explain_score``.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from funnel.bulkread import epoch_ms, read_columns
from funnel.stages import EventSource, Stage

from .models import Lead
from .scoring import (
    COUNTRY,
    EMPLOYEES,
    INDUSTRY,
    SEGMENT,
    SENIORITY,
    TOUCH,
    Rule,
    behaviour_points,
    final_scores,
    rules_of,
    touch_rules,
)

WRITE_BATCH = 20_000
QUALIFYING_STAGES = (Stage.LEAD, Stage.RECYCLED)


@dataclass(frozen=True)
class LeadSet:
    """Which leads to score: a condition on the lead table (alias ``l``) and its parameters."""

    where: str = "1 = 1"
    params: tuple = ()

    @classmethod
    def ids(cls, ids) -> "LeadSet":
        ids = sorted({int(i) for i in ids})
        return cls(f"l.id IN ({', '.join(['%s'] * len(ids))})", tuple(ids))

    @property
    def everything(self) -> bool:
        return self.where == "1 = 1"


@dataclass
class Scored:
    """The leads of a set (sorted by id) with their stored and recomputed scores."""

    ids: np.ndarray
    old: np.ndarray
    new: np.ndarray
    open: np.ndarray  # in a stage a score may qualify from (lead, recycled)
    changed: int = 0
    qualified: list[int] = field(default_factory=list)


def fit_sql(rules: list[Rule]) -> tuple[str, list]:
    """The fit points of a lead (``l``) and its account (``a``, left-joined) as one SQL sum."""
    terms, params = [], []
    for rule in rules:
        if rule.kind == TOUCH or not rule.points:
            continue
        if rule.kind == SENIORITY:
            condition, values = "l.seniority = %s", [rule.value]
        elif rule.kind == SEGMENT:
            condition, values = "a.segment = %s", [rule.value]
        elif rule.kind == INDUSTRY:
            condition, values = "LOWER(a.industry) = %s", [rule.value.strip().lower()]
        elif rule.kind == COUNTRY:
            condition, values = "UPPER(a.country) = %s", [rule.value.strip().upper()]
        elif rule.kind == EMPLOYEES:
            bounds, values = ["a.employee_count IS NOT NULL"], []
            if rule.min_employees is not None:
                bounds.append("a.employee_count >= %s")
                values.append(rule.min_employees)
            if rule.max_employees is not None:
                bounds.append("a.employee_count <= %s")
                values.append(rule.max_employees)
            condition = " AND ".join(bounds)
        else:  # pragma: no cover - the model's choices
            raise ValueError(f"unknown rule kind {rule.kind}")
        terms.append(f"(CASE WHEN {condition} THEN {int(rule.points)} ELSE 0 END)")
        params += values
    return (" + ".join(terms) or "0"), params


def score_set(*, workspace, rules: list[Rule], leads: LeadSet, now: dt.datetime) -> Scored:
    """Read the set's leads and touches in bulk and compute their scores (nothing is written)."""
    lead_table, touch_table = Lead._meta.db_table, _touch_table()
    fit, fit_params = fit_sql(rules)
    rows = read_columns(
        f"SELECT l.id, {fit}, l.score, CASE WHEN l.stage IN (%s, %s) THEN 1 ELSE 0 END "
        f"FROM {lead_table} l LEFT JOIN accounts_account a ON a.id = l.account_id "
        f"WHERE l.workspace_id = %s AND l.erased_at IS NULL AND l.merged_into_id IS NULL AND ({leads.where}) "
        "ORDER BY l.id",
        [*fit_params, *QUALIFYING_STAGES, workspace.pk, *leads.params],
        ["id", "fit", "score", "open"],
    )
    ids = rows["id"]
    behaviour = np.zeros(len(ids), dtype=np.float64)
    kinds = touch_rules(rules)
    if kinds and len(ids):
        window_start = now - dt.timedelta(days=workspace.engagement_window_days)
        codes = " ".join(f"WHEN %s THEN {code}" for code in range(len(kinds)))
        marks = ", ".join(["%s"] * len(kinds))
        kind_values = [r.value for r in kinds]
        sql = (
            f"SELECT t.lead_id, CASE t.type {codes} ELSE 0 END, {epoch_ms('t.occurred_at')} FROM {touch_table} t "
            f"WHERE t.workspace_id = %s AND t.occurred_at >= %s AND t.occurred_at <= %s AND t.type IN ({marks})"
        )
        params = [*kind_values, workspace.pk, window_start, now, *kind_values]
        if not leads.everything:
            sql += f" AND t.lead_id IN (SELECT l.id FROM {lead_table} l WHERE l.workspace_id = %s AND ({leads.where}))"
            params += [workspace.pk, *leads.params]
        touches = read_columns(sql, params, ["lead", "code", "at"], times=frozenset({"at"}))
        position = np.searchsorted(ids, touches["lead"])
        known = position < len(ids)
        known[known] = ids[position[known]] == touches["lead"][known]
        now_ms = int(now.timestamp() * 1000)
        behaviour = behaviour_points(
            lead_index=position[known],
            type_code=touches["code"][known],
            age_ms=(now_ms - touches["at"][known]).astype(np.float64),
            touch_rules=kinds,
            leads=len(ids),
        )
        del touches, position, known
    new = final_scores(rows["fit"], behaviour)
    return Scored(ids=ids, old=rows["score"], new=new, open=rows["open"].astype(bool))


def _touch_table() -> str:
    from attribution.models import Touch

    return Touch._meta.db_table


def write_scores(*, workspace, scored: Scored, now: dt.datetime, progress: Callable[[int], None] | None = None) -> int:
    """Write the changed scores in batches; a lead whose score moved meanwhile (a touch scored
    it concurrently) is left as that write put it. Returns how many were written."""
    changed = np.flatnonzero(scored.new != scored.old)
    written = 0
    for start in range(0, len(changed), WRITE_BATCH):
        chosen = changed[start : start + WRITE_BATCH]
        rows = (scored.ids[chosen].tolist(), scored.old[chosen].tolist(), scored.new[chosen].tolist())
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {Lead._meta.db_table} AS l SET score = v.score, updated_at = %s "
                    "FROM unnest(%s::bigint[], %s::integer[], %s::integer[]) AS v(id, old, score) "
                    "WHERE l.id = v.id AND l.workspace_id = %s AND l.score = v.old",
                    [now, *rows, workspace.pk],
                )
                written += cursor.rowcount
            else:
                cursor.executemany(
                    f"UPDATE {Lead._meta.db_table} SET score = %s, updated_at = %s "
                    "WHERE id = %s AND workspace_id = %s AND score = %s",
                    [(new, now, i, workspace.pk, old) for i, old, new in zip(*rows, strict=True)],
                )
                written += len(chosen)
        if progress is not None:
            progress(int(chosen[-1]) + 1)
    return written


def qualify(*, workspace, lead_ids: list[int], source: str = EventSource.RULE) -> list[int]:
    """Make these leads MQLs through the stage service and hand them off, as a touch always has;
    returns those moved (a lead that left lead or recycled meanwhile is skipped)."""
    from funnel.services import lead_stage_move

    from .services import lead_hand_off

    handed_off = []
    for lead in (
        Lead.objects.filter(pk__in=lead_ids, stage__in=QUALIFYING_STAGES).select_related("account").order_by("pk")
    ):
        with transaction.atomic():
            lead_stage_move(workspace=workspace, lead=lead, to_stage=Stage.MQL, source=source)
            lead_hand_off(workspace=workspace, lead=lead)
        handed_off.append(lead.pk)
    return handed_off


def crossing(scored: Scored, *, threshold: int, previous_threshold: int) -> np.ndarray:
    """The leads a rescore qualifies: open, under the previous threshold, at or over the new one."""
    return scored.ids[scored.open & (scored.old < previous_threshold) & (scored.new >= threshold)]


def rescore_workspace(
    *,
    workspace,
    now: dt.datetime | None = None,
    previous_threshold: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Scored:
    """Rescore every lead of the workspace by its current rules; the leads that cross the MQL
    threshold (were under ``previous_threshold``, default the current one, and reach the
    current) qualify. Safe to run twice: the second run finds nothing changed."""
    now = now or timezone.now()
    threshold = workspace.mql_threshold
    scored = score_set(workspace=workspace, rules=rules_of(workspace), leads=LeadSet(), now=now)
    total = len(scored.ids)
    if progress is not None:
        progress(0, total)
    scored.changed = write_scores(
        workspace=workspace,
        scored=scored,
        now=now,
        progress=(lambda done: progress(done, total)) if progress is not None else None,
    )
    chosen = crossing(
        scored, threshold=threshold, previous_threshold=threshold if previous_threshold is None else previous_threshold
    )
    scored.qualified = qualify(workspace=workspace, lead_ids=chosen.tolist())
    if progress is not None:
        progress(total, total)
    return scored
