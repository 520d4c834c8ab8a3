"""Lead scoring: the maths, as pure functions over arrays (``leads.rescoring`` reads in bulk and
calls them), the workspace's rules as the maths takes them, and one lead's explanation.

A workspace's rules give points for fit (the lead's seniority; its account's segment, industry,
employee range and country) and for behaviour (each touch by its type, counted only inside the
workspace's engagement window, worth ``points * 2 ** (-age in days / half-life)`` when the type
has a half-life). Every rule that matches adds its points, and

    score = min(100, max(0, floor(fit + behaviour)))

The sum is rounded to six decimals before the floor, so that one touch worth exactly 12.5 after
a half-life never becomes 12.4999999 on one engine and 12.5 on another.

New workspaces start with ``DEFAULT_RULES``: the points of the constants that were here before
rules were per workspace (``TOUCH_POINTS`` and ``SENIORITY_POINTS``), no half-life, nothing for
the account, so scores do not move.
"""

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext as _

TOUCH_POINTS: dict[str, int] = {
    "meeting": 25,
    "event_attended": 20,
    "webinar_attended": 15,
    "form_fill": 15,
    "content_download": 10,
    "call": 10,
    "email_click": 5,
    "ad_click": 3,
    "web_visit": 2,
    "other": 1,
}
SENIORITY_POINTS: dict[str, int] = {"executive": 15, "director": 10, "manager": 5, "individual": 0}
MAX_SCORE = 100
MIN_POINTS, MAX_POINTS = -100, 100
DAY_MS = 86_400_000

# The kinds of rule; the first five are fit (what the lead is), the last behaviour (what it did).
SENIORITY, SEGMENT, INDUSTRY, EMPLOYEES, COUNTRY, TOUCH = (
    "seniority",
    "segment",
    "industry",
    "employees",
    "country",
    "touch",
)
FIT_KINDS = (SENIORITY, SEGMENT, INDUSTRY, EMPLOYEES, COUNTRY)


@dataclass(frozen=True)
class Rule:
    """One rule as the maths needs it. ``value`` is the seniority, segment, industry, country
    code or touch type it matches (an employee range uses ``min_employees``..``max_employees``,
    either end open when None); ``half_life_days`` only for touches."""

    kind: str
    value: str = ""
    points: int = 0
    half_life_days: int | None = None
    min_employees: int | None = None
    max_employees: int | None = None

    def matches_employees(self, count: int | None) -> bool:
        if count is None:
            return False
        return (self.min_employees is None or count >= self.min_employees) and (
            self.max_employees is None or count <= self.max_employees
        )


DEFAULT_RULES: tuple[Rule, ...] = (
    *(Rule(SENIORITY, value, points) for value, points in SENIORITY_POINTS.items()),
    *(Rule(TOUCH, kind, points) for kind, points in TOUCH_POINTS.items()),
)


def decay(age_days, half_life_days: int | None):
    """What a touch ``age_days`` old is worth per point (an array or a number)."""
    if not half_life_days:
        return np.ones_like(age_days, dtype=np.float64) if isinstance(age_days, np.ndarray) else 1.0
    return np.exp2(-np.asarray(age_days, dtype=np.float64) / half_life_days)


def behaviour_points(
    *,
    lead_index: np.ndarray,
    type_code: np.ndarray,
    age_ms: np.ndarray,
    touch_rules: list[Rule],
    leads: int,
) -> np.ndarray:
    """Each lead's behaviour points: touches as parallel arrays (the lead's position, the index
    of the touch's rule in ``touch_rules``, its age in milliseconds), already inside the window."""
    points = np.array([r.points for r in touch_rules] or [0], dtype=np.float64)[type_code]
    for code, rule in enumerate(touch_rules):
        if rule.half_life_days:
            chosen = type_code == code
            points[chosen] *= decay(age_ms[chosen] / DAY_MS, rule.half_life_days)
    return np.bincount(lead_index, weights=points, minlength=leads)


def final_scores(fit: np.ndarray, behaviour: np.ndarray) -> np.ndarray:
    """min(100, max(0, floor(fit + behaviour))), as int64."""
    total = np.floor(np.round(np.asarray(fit, dtype=np.float64) + behaviour, 6))
    return np.clip(total, 0, MAX_SCORE).astype(np.int64)


def final_score(total: float) -> int:
    """The same for one lead (the explanation's total)."""
    return int(min(MAX_SCORE, max(0, math.floor(round(total, 6)))))


def touch_rules(rules) -> list[Rule]:
    """The touch rules that give points, in a fixed order: a touch's code is its index here."""
    return [r for r in rules if r.kind == TOUCH and r.points]


def rules_of(workspace) -> list[Rule]:
    """The workspace's scoring rules, as the maths takes them (one query)."""
    from .models import ScoringRule

    return [
        Rule(
            kind=r.kind,
            value=r.value,
            points=r.points,
            half_life_days=r.half_life_days,
            min_employees=r.min_employees,
            max_employees=r.max_employees,
        )
        for r in ScoringRule.objects.filter(workspace=workspace).order_by("kind", "value", "min_employees", "id")
    ]


def fit_matches(rule: Rule, *, seniority: str, account) -> bool:
    """Whether a fit rule matches a lead (the same tests as ``leads.rescoring.fit_sql``)."""
    if rule.kind == SENIORITY:
        return seniority == rule.value
    if account is None:
        return False
    if rule.kind == SEGMENT:
        return account.segment == rule.value
    if rule.kind == INDUSTRY:
        return account.industry.lower() == rule.value.strip().lower()
    if rule.kind == COUNTRY:
        return account.country.upper() == rule.value.strip().upper()
    if rule.kind == EMPLOYEES:
        return rule.matches_employees(account.employee_count)
    return False


def employee_range_label(rule: Rule) -> str:
    low, high = rule.min_employees, rule.max_employees
    if low is not None and high is not None:
        return _("%(low)s to %(high)s") % {"low": f"{low:,}", "high": f"{high:,}"}
    if low is not None:
        return _("%(low)s or more") % {"low": f"{low:,}"}
    if high is not None:
        return _("up to %(high)s") % {"high": f"{high:,}"}
    return _("any number")


def rule_label(rule: Rule) -> str:
    """What a person reads for a rule: 'Seniority: Executive', 'Employees: 50 to 199'."""
    from attribution.choices import TouchType
    from workspaces.choices import Segment, Seniority

    from .models import ScoringRule

    kind = ScoringRule.Kind(rule.kind).label
    if rule.kind == SENIORITY:
        value = Seniority(rule.value).label if rule.value in Seniority.values else rule.value
    elif rule.kind == SEGMENT:
        value = Segment(rule.value).label if rule.value in Segment.values else rule.value
    elif rule.kind == EMPLOYEES:
        value = employee_range_label(rule)
    elif rule.kind == TOUCH:
        return str(TouchType(rule.value).label) if rule.value in TouchType.values else rule.value
    else:
        value = rule.value
    return _("%(kind)s: %(value)s") % {"kind": kind, "value": value}


def _shown(points: float) -> float | int:
    rounded = round(float(points), 1)
    return int(rounded) if rounded.is_integer() else rounded


def explain_score(*, workspace, lead, now: dt.datetime | None = None) -> list[tuple[str, float | int]]:
    """The rules that give this lead points now, and how many: ``(label, points)``, fit first
    (in the page's order), then touches by points, most first (a touch type's label says how
    many touches; decayed points are rounded to one decimal). Three queries: the rules, the
    account, the lead's touches in the engagement window."""
    from attribution.models import Touch

    now = now or timezone.now()
    rules = rules_of(workspace)
    account = lead.account if lead.account_id else None
    reasons: list[tuple[str, float | int]] = [
        (rule_label(rule), rule.points)
        for rule in sorted(rules, key=lambda rule: FIT_KINDS.index(rule.kind) if rule.kind in FIT_KINDS else 0)
        if rule.kind in FIT_KINDS and rule.points and fit_matches(rule, seniority=lead.seniority, account=account)
    ]
    kinds = {rule.value: rule for rule in touch_rules(rules)}
    if kinds:
        window_start = now - dt.timedelta(days=workspace.engagement_window_days)
        ages: dict[str, list[float]] = {}
        for kind, occurred_at in Touch.objects.filter(
            lead_id=lead.pk, occurred_at__gte=window_start, occurred_at__lte=now, type__in=list(kinds)
        ).values_list("type", "occurred_at"):
            ages.setdefault(kind, []).append((now - occurred_at).total_seconds() / 86_400)
        behaviour = []
        for kind, days in ages.items():
            rule = kinds[kind]
            points = float(np.sum(rule.points * decay(np.array(days), rule.half_life_days)))
            label = _("%(touch)s × %(count)s") % {"touch": rule_label(rule), "count": len(days)}
            if rule.half_life_days:
                label = _("%(touches)s, half-life %(days)s days") % {"touches": label, "days": rule.half_life_days}
            behaviour.append((label, _shown(points)))
        reasons += sorted(behaviour, key=lambda reason: -reason[1])
    return reasons
