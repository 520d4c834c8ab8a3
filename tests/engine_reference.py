"""A brute-force reference for the engine's reports, written independently of it.

Plain Python over the ORM rows of one workspace (run inside its scope): lead by lead for the
funnel, conversion by conversion for attribution, with the definitions of issue 3. Nothing here
imports ``funnel.engine``, ``funnel.metrics`` or ``attribution.rules``; the Markov chain is
solved exactly with fractions.
"""

import datetime as dt
from collections import defaultdict
from fractions import Fraction
from zoneinfo import ZoneInfo

from accounts.models import Account, TargetListMember
from attribution.models import Touch
from funnel.models import Opportunity, StageEvent
from leads.models import Lead

STAGES = ["touched", "lead", "mql", "sal", "opportunity", "won", "renewed"]
MODELS = ["first_touch", "last_touch", "linear", "time_decay", "position_based", "w_shaped", "markov"]
LEVELS = ["lead", "opportunity", "revenue"]
BREAKDOWNS = ["channel", "campaign", "segment", "tier", "owner", "cohort_month"]


def _ms(moment: dt.datetime) -> int:
    """Milliseconds since the epoch, as the engine reads them (the test data uses whole seconds)."""
    return int(moment.timestamp()) * 1000 + moment.microsecond // 1000


class History:
    """The raw rows of one workspace, read once."""

    def __init__(self, workspace, *, as_of: dt.datetime | None = None):
        self.workspace = workspace
        self.tz = ZoneInfo(workspace.timezone)
        self.lookback_days = workspace.attribution_lookback_days
        self.half_life = float(workspace.time_decay_half_life_days)
        self.as_of = as_of
        # a merged lead is a tombstone: its touches and ledger rows are the survivor's now
        self.leads = list(Lead.objects.filter(merged_into__isnull=True).select_related("owner").order_by("id"))
        self.events = list(StageEvent.objects.order_by("id"))
        self.touches = list(Touch.objects.select_related("channel", "campaign").order_by("occurred_at", "id"))
        self.opportunities = list(Opportunity.objects.order_by("id"))
        self.accounts = {a.id: a for a in Account.objects.all()}
        self.tiers: dict[int, int] = {}
        for member in TargetListMember.objects.all():
            self.tiers[member.account_id] = min(member.tier, self.tiers.get(member.account_id, 99))
        self.lead_by_id = {lead.id: lead for lead in self.leads}

        # per lead: first recorded entry into each funnel stage
        self.first: dict[int, dict[str, int]] = {lead.id: {} for lead in self.leads}
        for event in self.events:
            if event.stage in STAGES:
                seen = self.first[event.lead_id].get(event.stage)
                t = _ms(event.entered_at)
                if seen is None or t < seen:
                    self.first[event.lead_id][event.stage] = t
        # per lead: reached time of each stage (a skipped stage at the time of the next recorded one)
        self.reached: dict[int, list[int | None]] = {}
        for lead in self.leads:
            times: list[int | None] = []
            for s, stage in enumerate(STAGES):
                t = self.first[lead.id].get(stage)
                if t is None:
                    later = [self.first[lead.id][x] for x in STAGES[s + 1 :] if x in self.first[lead.id]]
                    t = min(later) if later else None
                times.append(t)
            self.reached[lead.id] = times
        self.touches_of_lead: dict[int, list[Touch]] = defaultdict(list)
        self.touches_of_account: dict[int, list[Touch]] = defaultdict(list)
        for touch in self.touches:  # already in (time, id) order
            self.touches_of_lead[touch.lead_id].append(touch)
            # the account of the touch's lead now, not the one stored when it was recorded
            account_id = self.lead_by_id[touch.lead_id].account_id
            if account_id is not None:
                self.touches_of_account[account_id].append(touch)

    # --- periods --------------------------------------------------------------------------

    def bounds(self, date_from: dt.date | None, date_to: dt.date | None) -> tuple[int | None, int | None]:
        def midnight(day: dt.date) -> int:
            return _ms(dt.datetime(day.year, day.month, day.day, tzinfo=self.tz))

        return (
            midnight(date_from) if date_from else None,
            midnight(date_to + dt.timedelta(days=1)) if date_to else None,
        )

    def local_date(self, ms: int) -> dt.date:
        return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).astimezone(self.tz).date()

    # --- breakdown keys --------------------------------------------------------------------

    def breakdown_key(self, lead: Lead, by: str | None) -> str:
        if by is None:
            return ""
        touches = self.touches_of_lead.get(lead.id, [])
        first_touch = touches[0] if touches else None
        if by == "channel":
            return first_touch.channel.slug if first_touch else "none"
        if by == "campaign":
            if first_touch is None:
                return "none"
            return campaign_key(first_touch.campaign) if first_touch.campaign else "no_campaign"
        if by == "segment":
            account = self.accounts.get(lead.account_id)
            return account.segment if account and account.segment else "none"
        if by == "tier":
            tier = self.tiers.get(lead.account_id)
            return str(tier) if tier else "none"
        if by == "owner":
            return lead.owner.email if lead.owner else "none"
        if by == "cohort_month":
            touched = self.reached[lead.id][0]
            return self.local_date(touched).strftime("%Y-%m") if touched is not None else "none"
        raise ValueError(by)


def campaign_key(campaign) -> str:
    return campaign.external_id or str(campaign.id)


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def funnel_rows(
    history: History,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    view: str = "cohort",
    horizon_days: float | None = None,
    by: str | None = None,
) -> dict[tuple[str, str], dict]:
    """{(key, stage): row} for every breakdown key that some lead has."""
    start, end = history.bounds(date_from, date_to)

    def inside(t: int | None) -> bool:
        return t is not None and (start is None or t >= start) and (end is None or t < end)

    groups: dict[str, list[Lead]] = defaultdict(list)
    for lead in history.leads:
        groups[history.breakdown_key(lead, by)].append(lead)

    result = {}
    for key, leads in groups.items():
        entered = [sum(1 for lead in leads if inside(history.reached[lead.id][s])) for s in range(len(STAGES))]
        cohort = [lead for lead in leads if inside(history.reached[lead.id][0])]
        reached = [sum(1 for lead in cohort if history.reached[lead.id][s] is not None) for s in range(len(STAGES))]
        for s, stage in enumerate(STAGES):
            row = {
                "stage": stage,
                "entered": entered[s],
                "reached": reached[s],
                "cumulative_conversion": reached[s] / reached[0] if reached[0] else None,
                "next_stage_conversion": None,
                "median_days_to_next": None,
                "p75_days_to_next": None,
            }
            if s + 1 < len(STAGES):
                if view == "period":
                    row["next_stage_conversion"] = entered[s + 1] / entered[s] if entered[s] else None
                else:
                    converted = 0
                    for lead in leads:
                        a, b = history.reached[lead.id][s], history.reached[lead.id][s + 1]
                        if not inside(a) or b is None or b < a:
                            continue
                        if horizon_days is not None and (b - a) / 86_400_000 > horizon_days:
                            continue
                        converted += 1
                    row["next_stage_conversion"] = converted / entered[s] if entered[s] else None
                days = []
                for lead in leads:
                    a = history.first[lead.id].get(stage)
                    b = history.first[lead.id].get(STAGES[s + 1])
                    if a is not None and b is not None and inside(a) and b >= a:
                        days.append((b - a) / 86_400_000)
                row["median_days_to_next"] = percentile_cont(days, 0.5)
                row["p75_days_to_next"] = percentile_cont(days, 0.75)
            result[(key, stage)] = row
    return result


# --- attribution -------------------------------------------------------------------------


class Conversion:
    def __init__(self, *, time, value, touches, lead_moment=None, opp_moment=None):
        self.time, self.value, self.lead_moment, self.opp_moment = time, value, lead_moment, opp_moment
        self.all_touches = touches


def conversions(history: History, level: str) -> tuple[list[Conversion], list[list[Touch]]]:
    """The conversions of a level, and the touch lists of the keys that never converted."""
    found = []
    converted_keys = set()
    if level == "lead":
        for lead in history.leads:
            t = history.first[lead.id].get("lead")
            if t is not None:
                converted_keys.add(lead.id)
                found.append(Conversion(time=t, value=1.0, touches=history.touches_of_lead.get(lead.id, [])))
        open_keys = [lead.id for lead in history.leads if lead.id not in converted_keys]
        open_touches = [history.touches_of_lead.get(key, []) for key in open_keys]
        return found, open_touches
    for opp in history.opportunities:
        if opp.kind != "new_business":
            continue
        if level == "revenue" and opp.stage != "won":
            continue
        converted_keys.add(opp.account_id)
        found.append(
            Conversion(
                time=_ms(opp.closed_at if level == "revenue" else opp.created_at),
                value=float(opp.amount),
                touches=history.touches_of_account.get(opp.account_id, []),
                lead_moment=history.first[opp.primary_lead_id].get("lead"),
                opp_moment=_ms(opp.created_at),
            )
        )
    open_touches = [history.touches_of_account.get(a, []) for a in history.accounts if a not in converted_keys]
    return found, open_touches


def candidates(history: History, conversion: Conversion) -> list[Touch]:
    chosen = []
    for touch in conversion.all_touches:  # in (time, id) order
        t = _ms(touch.occurred_at)
        if t > conversion.time:
            continue
        if history.lookback_days and t < conversion.time - history.lookback_days * 86_400_000:
            continue
        chosen.append(touch)
    return chosen


def model_weights(history: History, model: str, level: str, conversion: Conversion, touches: list[Touch]):
    n = len(touches)
    if model == "first_touch":
        return [1.0] + [0.0] * (n - 1)
    if model == "last_touch":
        return [0.0] * (n - 1) + [1.0]
    if model == "linear":
        return [1.0 / n] * n
    if model == "time_decay":
        raw = [2 ** (-((conversion.time - _ms(t.occurred_at)) / 86_400_000) / history.half_life) for t in touches]
        return [r / sum(raw) for r in raw]
    if model == "position_based" or (model == "w_shaped" and level == "lead"):
        if n == 1:
            return [1.0]
        if n == 2:
            return [0.5, 0.5]
        return [0.4] + [0.2 / (n - 2)] * (n - 2) + [0.4]
    if model == "w_shaped":
        positions = [0]
        for moment in (conversion.lead_moment, conversion.opp_moment):
            holder = None
            if moment is not None:
                for i, touch in enumerate(touches):
                    if _ms(touch.occurred_at) <= moment:
                        holder = i
            positions.append(holder)
        result = [0.0] * n
        holders = sorted({p for p in positions if p is not None})
        for p in positions:
            if p is None:
                for h in holders:
                    result[h] += 0.3 / len(holders)
            else:
                result[p] += 0.3
        others = [i for i in range(n) if i not in holders]
        for i in others or holders:
            result[i] += 0.1 / len(others or holders)
        return result
    raise ValueError(model)


def _conversion_probability(counts: dict, states: list, removed=None) -> Fraction:
    """P(start ends in conversion) of the chain whose transition counts are ``counts[a][b]``;
    transitions into ``removed`` go to null instead. Solved by Gauss-Jordan over fractions."""
    transient = [s for s in states if s != removed]
    index = {s: i for i, s in enumerate(transient)}
    size = len(transient)
    # p(a) - sum_b P(a,b) p(b) = P(a, conversion)
    matrix = [[Fraction(0)] * (size + 1) for _ in range(size)]
    for a in transient:
        row = matrix[index[a]]
        row[index[a]] += 1
        total = sum(counts[a].values())
        if not total:
            continue
        for b, count in counts[a].items():
            p = Fraction(count, total)
            if b == "conversion":
                row[size] += p
            elif b in index:
                row[index[b]] -= p
    for col in range(size):
        pivot = next(r for r in range(col, size) if matrix[r][col] != 0)
        matrix[col], matrix[pivot] = matrix[pivot], matrix[col]
        lead = matrix[col][col]
        matrix[col] = [v / lead for v in matrix[col]]
        for r in range(size):
            if r != col and matrix[r][col] != 0:
                factor = matrix[r][col]
                matrix[r] = [v - factor * w for v, w in zip(matrix[r], matrix[col], strict=True)]
    return matrix[index["start"]][size]


def markov_shares(paths: list[tuple[list[str], bool]]) -> dict[str, float]:
    """Removal-effect shares of each channel over channel paths (converted or not)."""
    counts: dict = defaultdict(lambda: defaultdict(int))
    channels = set()
    for path, converted in paths:
        if not path:
            continue
        states = ["start", *path, "conversion" if converted else "null"]
        for a, b in zip(states, states[1:], strict=False):
            counts[a][b] += 1
        channels.update(path)
    states = ["start", *sorted(channels)]
    base = _conversion_probability(counts, states) if channels else Fraction(0)
    if base == 0:
        return {}
    effects = {c: 1 - _conversion_probability(counts, states, removed=c) / base for c in sorted(channels)}
    total = sum(effects.values())
    return {c: float(e / total) for c, e in effects.items() if e > 0}


def attribution_rows(
    history: History,
    *,
    model: str,
    level: str,
    by: str = "channel",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, dict]:
    """{key: {"conversions", "value"}} credited by ``model`` at ``level`` for the conversions
    whose local day falls in the period."""
    found, open_touches = conversions(history, level)
    totals: dict[str, dict] = defaultdict(lambda: {"conversions": 0.0, "value": 0.0})

    def in_period(conversion: Conversion) -> bool:
        day = history.local_date(conversion.time)
        return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)

    def key_of(touch: Touch) -> str:
        if by == "channel":
            return touch.channel.slug
        return campaign_key(touch.campaign) if touch.campaign else "no_campaign"

    shares = None
    if model == "markov":
        paths = [([t.channel.slug for t in candidates(history, c)], True) for c in found]
        as_of_ms = _ms(history.as_of)
        for touches in open_touches:
            window = [
                t
                for t in touches
                if _ms(t.occurred_at) <= as_of_ms
                and (not history.lookback_days or _ms(t.occurred_at) >= as_of_ms - history.lookback_days * 86_400_000)
            ]
            paths.append(([t.channel.slug for t in window], False))
        shares = markov_shares(paths)

    for conversion in found:
        if not in_period(conversion):
            continue
        touches = candidates(history, conversion)
        if not touches:
            totals["none"]["conversions"] += 1
            totals["none"]["value"] += conversion.value
            continue
        if model == "markov":
            for channel, share in shares.items():
                totals[channel]["conversions"] += share
                totals[channel]["value"] += share * conversion.value
            continue
        for touch, weight in zip(touches, model_weights(history, model, level, conversion, touches), strict=True):
            totals[key_of(touch)]["conversions"] += weight
            totals[key_of(touch)]["value"] += weight * conversion.value
    return dict(totals)


def conversion_totals(history: History, level: str, date_from=None, date_to=None) -> tuple[int, float]:
    found, _ = conversions(history, level)
    chosen = [
        c
        for c in found
        if (date_from is None or history.local_date(c.time) >= date_from)
        and (date_to is None or history.local_date(c.time) <= date_to)
    ]
    return len(chosen), sum(c.value for c in chosen)


def exits(history: History, *, date_from: dt.date | None = None, date_to: dt.date | None = None) -> dict:
    """Exit events in the period, with reasons, and how many recycled leads reached SAL later."""
    start, end = history.bounds(date_from, date_to)
    chosen = [
        e
        for e in history.events
        if e.stage in ("rejected", "recycled", "disqualified", "lost", "churned")
        and (start is None or _ms(e.entered_at) >= start)
        and (end is None or _ms(e.entered_at) < end)
    ]

    def by_reason(stage: str) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for e in chosen:
            if e.stage == stage:
                counts[e.reason or "none"] += 1
        return dict(counts)

    later_sal = set()  # recycled leads, not recycle events: a lead recycled twice counts once
    for e in chosen:
        if e.stage == "recycled" and any(
            s.lead_id == e.lead_id and s.stage == "sal" and s.entered_at > e.entered_at for s in history.events
        ):
            later_sal.add(e.lead_id)
    count = {stage: sum(1 for e in chosen if e.stage == stage) for stage in ("rejected", "recycled", "disqualified")}
    return {
        "rejected": count["rejected"],
        "rejected_by_reason": by_reason("rejected"),
        "recycled": count["recycled"],
        "recycled_later_sal": len(later_sal),
        "disqualified": count["disqualified"],
        "lost": sum(1 for e in chosen if e.stage == "lost"),
        "lost_by_reason": by_reason("lost"),
        "churned": sum(1 for e in chosen if e.stage == "churned"),
    }


def target_accounts_touched(history: History, *, date_from=None, date_to=None) -> tuple[int, int]:
    """(target accounts touched in the period, target accounts): a target account is touched
    when a touch of one of its leads (its leads now) falls on a local day in the period."""
    touched = set()
    for account_id, touches in history.touches_of_account.items():
        if account_id not in history.tiers:
            continue
        for touch in touches:
            day = history.local_date(_ms(touch.occurred_at))
            if (date_from is None or day >= date_from) and (date_to is None or day <= date_to):
                touched.add(account_id)
    return len(touched), len(history.tiers)
