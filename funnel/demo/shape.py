"""The shape of a B2B company's history, as NumPy/pandas frames: pure, deterministic, no ORM.

``demo_shape(leads=N, seed=S, today=D)`` returns the same frames for the same three inputs.
Every frame uses local integer ids (its row position, from 0); a loader adds each table's id
offset. Foreign keys to rows that live outside the frames are local indexes too: ``channel``
indexes ``DEFAULT_CHANNELS``, ``owner`` indexes the two sales reps (``rep1``, ``rep2``).
Times are int64 seconds since the Unix epoch (UTC); dates are ``datetime64[D]``. Everything
happens before midnight (UTC) at the start of ``today``.

The history is built stage by stage over all leads at once (loops over stages, channels and
rounds, never over leads or touches), so a million leads take seconds.
"""

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.random import PCG64, Generator

from attribution.choices import DEFAULT_CHANNELS, TouchType
from funnel.stages import LostReason, RejectionReason, Stage

DAY = 86_400
HOUR = 3_600
WINDOW_DAYS = 730

STAGES: tuple[str, ...] = tuple(Stage.values)
S = {stage: code for code, stage in enumerate(STAGES)}
CHANNELS: tuple[str, ...] = tuple(slug for slug, _ in DEFAULT_CHANNELS)
C = {slug: code for code, slug in enumerate(CHANNELS)}
SEGMENTS = ("smb", "mid_market", "enterprise")
REJECTION_REASONS = tuple(RejectionReason.values)
LOST_REASONS = tuple(LostReason.values)
# A reason ``other`` needs a note (the services refuse it without one).
OTHER_NOTE = "Other: see the imported history"

FIRST_NAMES = (  # noqa: SIM905 (a word list reads best as text)
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Sandra Mark Ashley Paul Emily Steven "
    "Donna Andrew Michelle Kenneth Carol Joshua Amanda Kevin Melissa Brian Deborah George Stephanie Timothy Rebecca "
    "Ronald Laura Jason Helen Edward Sharon Jeffrey Cynthia Ryan Kathleen Jacob Amy Gary Anna Nicholas Angela Eric "
    "Ruth Jonathan Brenda Stephen Pamela Larry Nicole Justin Katherine Scott Samantha Brandon Christine Benjamin "
    "Emma Samuel Catherine Gregory Debra Alexander Rachel Frank Carolyn Patrick Janet Raymond Maria Jack Olivia "
    "Dennis Heather Jerry Diane Tyler Julie Aaron Joyce Jose Victoria Adam Kelly Nathan Christina Henry Lauren "
    "Zachary Joan Douglas Evelyn Peter Judith Kyle Megan Noah Andrea Ethan Cheryl Jeremy Hannah Walter Jacqueline "
    "Christian Martha Keith Gloria Roger Teresa Terry Ann Austin Sara Sean Madison Gerald Frances Carl Kathryn "
    "Harold Janice Dylan Jean Arthur Abigail Lawrence Alice Jordan Judy Jesse Sophia Bryan Grace Billy Denise "
    "Bruce Amber Gabriel Doris Joe Marilyn Logan Danielle Alan Beverly Juan Isabella Albert Theresa Willie Diana"
).split()
LAST_NAMES = (  # noqa: SIM905 (a word list reads best as text)
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
    "Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim "
    "Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo "
    "Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler "
    "Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds "
    "Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford "
    "Castro Marshall Owens Harrison Fernandez Mcdonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman "
    "Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon"
).split()
NAME_HEADS = (  # noqa: SIM905 (a word list reads best as text)
    "Acme Apex Arc Atlas Aurora Beacon Blue Bright Cedar Cobalt Copper Core Crest Delta Echo Ember Falcon Fern "
    "Flux Forge Granite Harbor Helix Horizon Iron Jade Juniper Keystone Lumen Maple Meridian Nimbus Nova Oak Onyx "
    "Orbit Peak Pine Pixel Prism Quartz Radiant Redwood River Sage Sierra Silver Solar Spark Spruce Stone Summit "
    "Terra Tidal Titan Vector Velvet Vertex Willow Zenith"
).split()
NAME_TAILS = (  # noqa: SIM905 (a word list reads best as text)
    "Analytics Bio Cloud Data Dynamics Energy Finance Foods Health Labs Logistics Media Networks Partners Robotics "
    "Security Software Systems Technologies Works Capital Digital Industries Logic Motors Pharma Retail Solutions "
    "Studio Ventures"
).split()
INDUSTRIES = (
    "Software", "Financial services", "Healthcare", "Manufacturing", "Retail", "Logistics", "Education",
    "Media", "Energy", "Telecommunications", "Professional services", "Public sector",
)  # fmt: skip
COUNTRIES = ("US", "GB", "DE", "FR", "CA", "AU", "NL", "SE", "ES", "JP", "SG", "IN", "BR")
COUNTRY_WEIGHTS = (0.38, 0.12, 0.1, 0.07, 0.06, 0.05, 0.04, 0.03, 0.03, 0.04, 0.03, 0.03, 0.02)
COUNTRY_TLD = ("com", "co.uk", "de", "fr", "ca", "com.au", "nl", "se", "es", "jp", "sg", "in", "com.br")
DEPARTMENTS = ("Marketing", "Sales", "IT", "Finance", "Operations", "Engineering", "Human Resources")
SENIORITIES = ("executive", "director", "manager", "individual")
TITLE_PATTERNS = ("VP of {}", "Director of {}", "{} Manager", "{} Specialist")

# Per channel: campaign types, and touch types with their weights.
CHANNEL_CAMPAIGN_TYPES: dict[str, tuple[str, ...]] = {
    "paid_search": ("paid_ads",),
    "paid_social": ("paid_ads", "abm"),
    "organic_search": ("website", "content"),
    "email": ("email",),
    "events": ("event",),
    "webinar": ("webinar",),
    "content": ("content",),
    "partner": ("partner",),
    "referral": ("partner",),
    "outbound": ("outbound", "abm"),
    "direct": ("website",),
}
CHANNEL_TOUCH_TYPES: dict[str, tuple[tuple[str, float], ...]] = {
    "paid_search": (("ad_click", 0.85), ("web_visit", 0.15)),
    "paid_social": (("ad_click", 0.8), ("web_visit", 0.2)),
    "organic_search": (("web_visit", 0.75), ("content_download", 0.25)),
    "email": (("email_click", 1.0),),
    "events": (("event_attended", 0.8), ("meeting", 0.2)),
    "webinar": (("webinar_attended", 1.0),),
    "content": (("content_download", 0.7), ("web_visit", 0.3)),
    "partner": (("meeting", 0.4), ("web_visit", 0.4), ("other", 0.2)),
    "referral": (("web_visit", 0.6), ("meeting", 0.4)),
    "outbound": (("call", 0.45), ("meeting", 0.35), ("email_click", 0.2)),
    "direct": (("web_visit", 1.0),),
}
TOUCH_TYPES: tuple[str, ...] = tuple(TouchType.values)
# The channel mix of a person's first touch, of the capture (form fill), and of later touches.
FIRST_TOUCH_MIX = dict(  # noqa: C408
    paid_search=0.15, paid_social=0.12, organic_search=0.18, email=0.04, events=0.08, webinar=0.07, content=0.1,
    partner=0.05, referral=0.05, outbound=0.11, direct=0.05,
)  # fmt: skip
CAPTURE_MIX = dict(  # noqa: C408
    paid_search=0.16, paid_social=0.12, organic_search=0.12, email=0.08, events=0.12, webinar=0.14, content=0.14,
    partner=0.04, referral=0.03, outbound=0.0, direct=0.05,
)  # fmt: skip
LATER_TOUCH_MIX = dict(  # noqa: C408
    paid_search=0.1, paid_social=0.1, organic_search=0.12, email=0.25, events=0.05, webinar=0.08, content=0.12,
    partner=0.03, referral=0.02, outbound=0.05, direct=0.08,
)  # fmt: skip
# Share of touches with no campaign (organic and direct traffic is mostly unattributed).
NO_CAMPAIGN_SHARE = {"organic_search": 0.6, "direct": 0.8, "referral": 0.3}
UTM = {
    "paid_search": ("google", "cpc"),
    "paid_social": ("linkedin", "paid_social"),
    "organic_search": ("google", "organic"),
    "email": ("newsletter", "email"),
    "events": ("event", "event"),
    "webinar": ("webinar", "webinar"),
    "content": ("blog", "content"),
    "partner": ("partner", "partner"),
    "referral": ("referral", "referral"),
    "outbound": ("sales", "outbound"),
    "direct": ("", ""),
}
CAMPAIGN_DAYS = dict(  # noqa: C408
    event=(1, 3), webinar=(1, 1), content=(60, 180), paid_ads=(30, 90), email=(7, 30), website=(180, 365),
    outbound=(30, 90), partner=(90, 180), abm=(90, 180),
)  # fmt: skip
CAMPAIGN_BUDGET = dict(  # noqa: C408
    event=40_000, webinar=5_000, content=8_000, paid_ads=25_000, email=3_000, website=12_000, outbound=15_000,
    partner=10_000, abm=30_000,
)  # fmt: skip
THEMES = ("Growth", "Launch", "Spring", "Summer", "Autumn", "Winter", "Pipeline", "Awareness", "Nurture", "Summit")

# Amounts of a new-business deal (median, by segment) and its days to close.
DEAL_MEDIAN = np.array([12_000.0, 45_000.0, 180_000.0])
CLOSE_DAYS_MEDIAN = np.array([25.0, 55.0, 110.0])
WIN_RATE = np.array([0.32, 0.26, 0.22])
DIRECT_TO_SALES = np.array([0.22, 0.06, 0.02])  # small-ticket leads skip nurture
RENEWAL_RATE = 0.8


@dataclass
class DemoShape:
    """The frames of one company's history (see the module docstring for ids and times)."""

    today: dt.date
    horizon: int  # seconds: midnight UTC at the start of ``today``; nothing happens at or after it
    accounts: pd.DataFrame
    target_list: dict
    target_members: pd.DataFrame
    campaigns: pd.DataFrame
    leads: pd.DataFrame
    touches: pd.DataFrame
    events: pd.DataFrame
    opportunities: pd.DataFrame
    contracts: pd.DataFrame
    counts: dict = field(default_factory=dict)
    # the note of a stage event whose reason is ``other`` (a Chinese demo has its own)
    other_note: str = OTHER_NOTE

    def captured_at(self) -> np.ndarray:
        """Per lead, its first entry into stage lead in seconds (-1: never captured)."""
        e = self.events
        is_lead = (e["stage"] == STAGES.index("lead")).to_numpy()
        first = np.full(len(self.leads), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, e["lead"].to_numpy()[is_lead], e["entered_at"].to_numpy()[is_lead])
        return np.where(first == np.iinfo(np.int64).max, -1, first)

    def first_touches(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per lead, its earliest touch (by time, then by the touch's row, which is its id's
        order): (seconds, campaign row, channel row), each -1 for a lead never touched. The
        loaders write them on the lead (``Lead.first_touch_*``), as the touch services do."""
        t = self.touches
        n = len(self.leads)
        seconds = np.full(n, -1, dtype=np.int64)
        campaign = np.full(n, -1, dtype=np.int64)
        channel = np.full(n, -1, dtype=np.int64)
        if len(t):
            lead = t["lead"].to_numpy()
            order = np.lexsort((np.arange(len(t)), t["occurred_at"].to_numpy(), lead))
            first = order[np.r_[True, lead[order][1:] != lead[order][:-1]]]
            seconds[lead[first]] = t["occurred_at"].to_numpy()[first]
            campaign[lead[first]] = t["campaign"].to_numpy()[first]
            channel[lead[first]] = t["channel"].to_numpy()[first]
        return seconds, campaign, channel

    def table_sizes(self) -> dict[str, int]:
        return {
            "accounts": len(self.accounts),
            "target_list_members": len(self.target_members),
            "campaigns": len(self.campaigns),
            "leads": len(self.leads),
            "touches": len(self.touches),
            "stage_events": len(self.events),
            "opportunities": len(self.opportunities),
            "contracts": len(self.contracts),
        }


def _weights(mix: dict[str, float]) -> np.ndarray:
    p = np.array([mix[slug] for slug in CHANNELS], dtype=float)
    return p / p.sum()


def _lognormal_days(rng: Generator, median_days, size, sigma: float = 0.6) -> np.ndarray:
    """Delays in whole seconds, at least an hour: days to weeks with a long tail."""
    days = np.asarray(median_days, dtype=float) * rng.lognormal(0.0, sigma, size)
    return np.maximum((days * DAY).astype(np.int64), HOUR)


def _to_days(seconds: np.ndarray) -> np.ndarray:
    return (seconds // DAY).astype("datetime64[D]")


def _one_year_after(days: np.ndarray) -> np.ndarray:
    """Same day next year (29 February gives 1 March)."""
    month = days.astype("datetime64[M]")
    return (month + 12).astype("datetime64[D]") + (days - month.astype("datetime64[D]"))


def _strings(parts: list) -> np.ndarray:
    """Concatenate arrays (or scalars) of strings element-wise into an object array."""
    n = next(len(part) for part in parts if np.ndim(part))
    out = pd.Series(np.full(n, "", dtype=object))
    for part in parts:
        out = out + (pd.Series(np.asarray(part, dtype=object)) if np.ndim(part) else part)
    return out.to_numpy(dtype=object)


class _Ledger:
    """Collects stage events step by step. Each ``add`` is one step of the history and is later
    than the lead's previous steps, so sorting by (lead, step) gives each lead's order."""

    def __init__(self):
        self.parts: list[tuple] = []

    def add(self, leads, stage: str, at, opportunity=None, reason=None):
        leads = np.asarray(leads, dtype=np.int64)
        n = len(leads)
        if n == 0:
            return
        opp = np.full(n, -1, np.int64) if opportunity is None else np.asarray(opportunity, np.int64)
        why = np.full(n, "", object) if reason is None else np.asarray(reason, object)
        self.parts.append((leads, np.full(n, S[stage], np.int8), np.asarray(at, np.int64), opp, why))

    def frame(self) -> pd.DataFrame:
        steps = np.concatenate([np.full(len(p[0]), i, np.int32) for i, p in enumerate(self.parts)])
        lead = np.concatenate([p[0] for p in self.parts])
        order = np.lexsort((steps, lead))
        lead = lead[order]
        stage = np.concatenate([p[1] for p in self.parts])[order]
        previous = np.full(len(lead), -1, np.int8)
        same_lead = np.r_[False, lead[1:] == lead[:-1]]
        previous[same_lead] = stage[:-1][same_lead[1:]]
        reason = np.concatenate([p[4] for p in self.parts])[order]
        note = np.where(reason == "other", OTHER_NOTE, "")
        return pd.DataFrame(
            {
                "lead": lead,
                "stage": stage,
                "from_stage": previous,
                "entered_at": np.concatenate([p[2] for p in self.parts])[order],
                "opportunity": np.concatenate([p[3] for p in self.parts])[order],
                "reason": reason,
                "note": note,
            }
        )


def demo_shape(*, leads: int, seed: int, today: dt.date, locale: str = "en") -> DemoShape:
    """The frames of the demo; ``locale="zh-hans"`` gives the same history with Chinese
    companies, people and names (``funnel.demo.chinese``)."""
    shape = _demo_shape(leads=leads, seed=seed, today=today)
    if locale == "en":
        return shape
    if locale == "zh-hans":
        from .chinese import in_chinese

        return in_chinese(shape, seed=seed)
    raise ValueError(f"No demo in the language '{locale}' (en, zh-hans).")


def _demo_shape(*, leads: int, seed: int, today: dt.date) -> DemoShape:
    rng = Generator(PCG64([seed, today.toordinal()]))
    horizon = int(dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC).timestamp())
    start = horizon - WINDOW_DAYS * DAY
    if leads <= 0:
        empty = pd.DataFrame()
        return DemoShape(today, horizon, empty, {}, empty, empty, empty, empty, empty, empty, empty)
    accounts = _accounts(rng, max(1, leads // 8), start)
    target_list, members = _target_list(rng, accounts, start)
    campaigns = _campaigns(rng, leads, start, horizon)
    people = _leads(rng, leads, accounts)
    ledger, opportunities, contracts, timeline = _history(rng, people, accounts, start, horizon)
    events = ledger.frame() if ledger.parts else _empty_events()
    events["account"] = people["account"].to_numpy()[events["lead"].to_numpy()] if len(events) else []
    last = events.groupby("lead", sort=True).tail(1) if len(events) else events
    stage = np.full(leads, S["touched"], np.int8)
    stage_at = np.full(leads, start, np.int64)
    stage[last["lead"].to_numpy()] = last["stage"].to_numpy()
    stage_at[last["lead"].to_numpy()] = last["entered_at"].to_numpy()
    people["stage"] = stage
    people["stage_entered_at"] = stage_at
    people["created_at"] = timeline["first_at"]
    reached_mql = timeline["reached_mql"]
    people["score"] = np.where(reached_mql, rng.integers(50, 101, leads), rng.integers(0, 50, leads))
    touches = _touches(rng, people, timeline, campaigns, horizon)
    if len(opportunities):
        opportunities["name"] = _strings(
            [accounts["name"].to_numpy()[opportunities["account"].to_numpy()], " — ", opportunities["name"]]
        )
    return DemoShape(
        today=today,
        horizon=horizon,
        accounts=accounts,
        target_list=target_list,
        target_members=members,
        campaigns=campaigns,
        leads=people,
        touches=touches,
        events=events,
        opportunities=opportunities,
        contracts=contracts,
    )


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead": np.zeros(0, np.int64),
            "stage": np.zeros(0, np.int8),
            "from_stage": np.zeros(0, np.int8),
            "entered_at": np.zeros(0, np.int64),
            "opportunity": np.zeros(0, np.int64),
            "reason": np.zeros(0, object),
            "note": np.zeros(0, object),
        }
    )


def _accounts(rng: Generator, n: int, start: int) -> pd.DataFrame:
    segment = rng.choice(3, size=n, p=[0.6, 0.3, 0.1]).astype(np.int8)
    low = np.array([10, 200, 2000])[segment]
    high = np.array([200, 2000, 100_000])[segment]
    employees = np.exp(rng.uniform(np.log(low), np.log(high))).astype(np.int64)
    combos = len(NAME_HEADS) * len(NAME_TAILS)
    position = np.arange(n)
    pick = rng.permutation(combos)[position % combos]
    block = position // combos
    head, tail = pick // len(NAME_TAILS), pick % len(NAME_TAILS)
    country = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_WEIGHTS)
    suffix = np.where(block > 0, (block + 1).astype(str), "")
    heads, tails = np.array(NAME_HEADS, dtype=object), np.array(NAME_TAILS, dtype=object)
    name = _strings([heads[head], " ", tails[tail], np.where(block > 0, " " + suffix.astype(object), "")])
    domain = _strings(
        [
            np.char.lower(np.array(NAME_HEADS))[head].astype(object),
            "-",
            np.char.lower(np.array(NAME_TAILS))[tail].astype(object),
            suffix.astype(object),
            ".",
            np.array(COUNTRY_TLD, dtype=object)[country],
        ]
    )
    return pd.DataFrame(
        {
            "name": name,
            "domain": domain,
            "industry": np.array(INDUSTRIES, dtype=object)[rng.integers(0, len(INDUSTRIES), n)],
            "employee_count": employees,
            "country": np.array(COUNTRIES, dtype=object)[country],
            "segment": np.array(SEGMENTS, dtype=object)[segment],
            "segment_code": segment,
            "owner": rng.integers(0, 2, n).astype(np.int8),
            "external_id": _strings(["acct-", pd.Series(position + 1).map("{:06d}".format).to_numpy()]),
            "created_at": start - rng.integers(0, 365 * DAY, n),
        }
    )


def _target_list(rng: Generator, accounts: pd.DataFrame, start: int) -> tuple[dict, pd.DataFrame]:
    target_list = {"name": "ABM target accounts", "description": "Accounts the sales and marketing teams run as ABM."}
    n = len(accounts)
    size = int(round(n * 0.05))
    if size == 0:
        return target_list, pd.DataFrame(
            {"account": np.zeros(0, np.int64), "tier": np.zeros(0, np.int8), "added_at": np.zeros(0, np.int64)}
        )
    weight = np.array([1.0, 4.0, 12.0])[accounts["segment_code"].to_numpy()]
    chosen = rng.choice(n, size=size, replace=False, p=weight / weight.sum())
    # Bigger companies get the higher tiers: rank by employees, top 20% tier 1, next 30% tier 2.
    rank = np.argsort(np.argsort(-accounts["employee_count"].to_numpy()[chosen], kind="stable"), kind="stable")
    tier = np.where(rank < 0.2 * size, 1, np.where(rank < 0.5 * size, 2, 3)).astype(np.int8)
    order = np.sort(chosen)
    tier = tier[np.argsort(chosen)]
    added = start - rng.integers(0, 30 * DAY, size)
    return target_list, pd.DataFrame({"account": order, "tier": tier, "added_at": added})


def _campaigns(rng: Generator, leads: int, start: int, horizon: int) -> pd.DataFrame:
    if leads == 0:
        return pd.DataFrame(columns=["name", "channel", "type", "start_date"])
    per_channel = int(np.clip(6 * np.log10(max(leads, 10)), 8, 40))
    frames = []
    for code, slug in enumerate(CHANNELS):
        types = CHANNEL_CAMPAIGN_TYPES[slug]
        kind = np.array(types, dtype=object)[rng.integers(0, len(types), per_channel)]
        kind[0] = types[0]  # the always-on campaign that runs from the start of the window
        begin = start + np.sort(rng.integers(0, WINDOW_DAYS + 45, per_channel)) * DAY
        begin[0] = start - 30 * DAY
        low = np.array([CAMPAIGN_DAYS[k][0] for k in kind])
        high = np.array([CAMPAIGN_DAYS[k][1] for k in kind])
        days = rng.integers(low, high + 1)
        days[0] = WINDOW_DAYS + 120
        frames.append(pd.DataFrame({"channel": code, "type": kind, "begin": begin, "days": days}))
    c = pd.concat(frames, ignore_index=True)
    n = len(c)
    start_date = _to_days(c["begin"].to_numpy())
    end_date = start_date + (c["days"].to_numpy() - 1).astype("timedelta64[D]")
    today = _to_days(np.array([horizon]))[0]
    status = np.where(start_date > today, "planned", np.where(end_date < today, "closed", "active")).astype(object)
    budget_median = np.array([CAMPAIGN_BUDGET[k] for k in c["type"]], dtype=float)
    budget = np.round(budget_median * rng.lognormal(0, 0.35, n), -2)
    elapsed = np.clip((today - start_date).astype(float) / c["days"].to_numpy(), 0, 1)
    cost = np.round(budget * elapsed * rng.uniform(0.8, 1.15, n), 2)
    slug = np.array(CHANNELS, dtype=object)[c["channel"].to_numpy()]
    label = np.array([name for _, name in DEFAULT_CHANNELS], dtype=object)[c["channel"].to_numpy()]
    theme = np.array(THEMES, dtype=object)[rng.integers(0, len(THEMES), n)]
    month = pd.Series(start_date).dt.strftime("%Y-%m").to_numpy(dtype=object)
    number = pd.Series(np.arange(1, n + 1)).map("{:04d}".format).to_numpy(dtype=object)
    is_abm = (c["type"] == "abm").to_numpy()
    name = _strings([label, " · ", np.where(is_abm, "ABM", theme), " ", month, " #", number])
    utm_campaign = _strings([slug, "-", pd.Series(theme).str.lower().to_numpy(dtype=object), "-", month])
    source = np.array([UTM[s][0] for s in slug], dtype=object)
    medium = np.array([UTM[s][1] for s in slug], dtype=object)
    utm_campaign = np.where(source == "", "", utm_campaign)
    return pd.DataFrame(
        {
            "name": name,
            "channel": c["channel"].to_numpy(np.int64),
            "type": c["type"].to_numpy(dtype=object),
            "status": status,
            "start_date": start_date,
            "end_date": end_date,
            "begin": c["begin"].to_numpy(np.int64),
            "budget": budget,
            "actual_cost": np.where(status == "planned", 0.0, cost),
            "utm_source": source,
            "utm_medium": medium,
            "utm_campaign": utm_campaign,
            "is_abm": is_abm,
            "external_id": _strings(["cmp-", number]),
        }
    )


def _leads(rng: Generator, n: int, accounts: pd.DataFrame) -> pd.DataFrame:
    if n == 0:
        return pd.DataFrame({"account": np.zeros(0, np.int64)})
    segment = accounts["segment_code"].to_numpy()
    weight = np.array([1.0, 2.5, 6.0])[segment] * rng.lognormal(0, 0.5, len(accounts))
    account = rng.choice(len(accounts), size=n, p=weight / weight.sum())
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    key = pd.DataFrame({"a": account, "f": first, "l": last})
    duplicate = key.groupby(["a", "f", "l"], sort=False).cumcount().to_numpy()
    first_names = np.array(FIRST_NAMES, dtype=object)[first]
    last_names = np.array(LAST_NAMES, dtype=object)[last]
    number = np.where(duplicate > 0, (duplicate + 1).astype(str), "").astype(object)
    domain = accounts["domain"].to_numpy()[account]
    email = _strings(
        [
            pd.Series(first_names).str.lower().to_numpy(dtype=object),
            ".",
            pd.Series(last_names).str.lower().to_numpy(dtype=object),
            number,
            "@",
            domain,
        ]
    )
    seniority = rng.choice(4, size=n, p=[0.08, 0.17, 0.3, 0.45])
    department = rng.choice(len(DEPARTMENTS), size=n, p=[0.3, 0.15, 0.15, 0.1, 0.1, 0.12, 0.08])
    titles = np.array([[p.format(d) for d in DEPARTMENTS] for p in TITLE_PATTERNS], dtype=object)
    return pd.DataFrame(
        {
            "email": email,
            "first_name": first_names,
            "last_name": last_names,
            "title": titles[seniority, department],
            "seniority": np.array(SENIORITIES, dtype=object)[seniority],
            "department": np.array(DEPARTMENTS, dtype=object)[department],
            "account": account.astype(np.int64),
            "owner": accounts["owner"].to_numpy()[account],
            "external_id": _strings(["lead-", pd.Series(np.arange(1, n + 1)).map("{:07d}".format).to_numpy()]),
        }
    )


def _history(rng: Generator, people: pd.DataFrame, accounts: pd.DataFrame, start: int, horizon: int):
    """The stage ledger of every lead, its deals and contracts; and per lead the times that the
    touches hang on (first touch, capture, acceptance, last event)."""
    n = len(people)
    ledger = _Ledger()
    everyone = np.arange(n, dtype=np.int64)
    segment = accounts["segment_code"].to_numpy()[people["account"].to_numpy()] if n else np.zeros(0, np.int8)
    # Arrivals grow over the two years; everyone arrives at least a day before the horizon.
    first_at = start + (rng.random(n) ** 0.8 * (WINDOW_DAYS - 1) * DAY).astype(np.int64)
    captured_on_first_touch = rng.random(n) < 0.2
    reached = ~captured_on_first_touch
    ledger.add(everyone[reached], "touched", first_at[reached])
    stage = np.full(n, S["touched"], np.int8)
    t = first_at.copy()
    active = np.ones(n, bool)
    last_at = first_at.copy()
    lead_at = np.full(n, -1, np.int64)
    sal_at = np.full(n, -1, np.int64)
    reached_mql = np.zeros(n, bool)

    def move(mask, to_stage, delay, reason=None, opportunity=None):
        """Move the leads of ``mask`` after ``delay``; those whose move would fall on or after the
        horizon stay where they are and stop."""
        when = t + delay
        late = mask & (when >= horizon)
        active[late] = False
        go = mask & ~late
        ledger.add(
            everyone[go],
            to_stage,
            when[go],
            None if opportunity is None else opportunity[go],
            None if reason is None else reason[go],
        )
        t[go] = when[go]
        last_at[go] = when[go]
        stage[go] = S[to_stage]
        return go

    # Capture: about 30% of all people never leave a form; a few are disqualified first.
    u = rng.random(n)
    never = reached & (u < 0.36)
    move(never & (rng.random(n) < 0.06), "disqualified", _lognormal_days(rng, 20, n))
    active[never] = False
    lead_at[captured_on_first_touch] = first_at[captured_on_first_touch]
    ledger.add(everyone[captured_on_first_touch], "lead", first_at[captured_on_first_touch])
    stage[captured_on_first_touch] = S["lead"]
    captured = move(reached & ~never, "lead", _lognormal_days(rng, 10, n, 0.9))
    lead_at[captured] = t[captured]

    reasons = np.array(REJECTION_REASONS, dtype=object)
    for round_ in range(3):
        u = rng.random(n)
        if round_ == 0:
            source = active & (stage == S["lead"])
            direct = source & (u < DIRECT_TO_SALES[segment])
            to_mql = source & ~direct & (u < DIRECT_TO_SALES[segment] + 0.36)
            out = source & ~direct & ~to_mql & (u > 0.93)
            move(direct, "sal", _lognormal_days(rng, 2, n))
            move(to_mql, "mql", _lognormal_days(rng, 12, n))
        else:
            source = active & (stage == S["recycled"])
            to_mql = source & (u < 0.35)
            out = source & (u > 0.9)
            move(to_mql, "mql", _lognormal_days(rng, 45, n))
        move(out, "disqualified", _lognormal_days(rng, 9, n))
        active[source & ~(direct if round_ == 0 else np.zeros(n, bool)) & ~to_mql] = False
        reached_mql |= (stage == S["mql"]) & active

        u = rng.random(n)
        at_mql = active & (stage == S["mql"])
        accept = at_mql & (u < 0.48)
        reject = at_mql & (u >= 0.48) & (u < 0.68)
        out = at_mql & (u >= 0.68) & (u < 0.73)
        move(accept, "sal", _lognormal_days(rng, 3, n, 0.5))
        why = reasons[rng.choice(len(reasons), size=n, p=[0.3, 0.2, 0.12, 0.08, 0.25, 0.05])]
        rejected = move(reject, "rejected", _lognormal_days(rng, 4, n, 0.5), reason=why)
        move(rejected, "recycled", np.zeros(n, np.int64), reason=why)
        move(out, "disqualified", _lognormal_days(rng, 5, n))
        active[at_mql & ~accept & ~reject] = False

        u = rng.random(n)
        at_sal = active & (stage == S["sal"])
        sal_at[at_sal & (sal_at < 0)] = t[at_sal & (sal_at < 0)]
        qualify = at_sal & (u < 0.28)
        reject = at_sal & (u >= 0.28) & (u < 0.42)
        out = at_sal & (u >= 0.42) & (u < 0.47)
        why = reasons[rng.choice(len(reasons), size=n, p=[0.25, 0.3, 0.05, 0.05, 0.3, 0.05])]
        rejected = move(reject, "rejected", _lognormal_days(rng, 8, n), reason=why)
        move(rejected, "recycled", np.zeros(n, np.int64), reason=why)
        move(out, "disqualified", _lognormal_days(rng, 10, n))
        # Qualified leads open their deal below; mark them so later rounds leave them alone.
        opened_at = t + _lognormal_days(rng, 10, n)
        late = qualify & (opened_at >= horizon)
        active[late] = False
        stage[qualify & ~late] = S["opportunity"]
        t[qualify & ~late] = opened_at[qualify & ~late]
        active[at_sal & ~qualify & ~reject] = False

    # New business: one deal per qualified lead.
    dealt = active & (stage == S["opportunity"])
    opp_lead = everyone[dealt]
    m = len(opp_lead)
    opp_segment = segment[opp_lead]
    opp_created = t[opp_lead]
    amount = np.round(DEAL_MEDIAN[opp_segment] * rng.lognormal(0, 0.45, m), -2)
    close = opp_created + _lognormal_days(rng, CLOSE_DAYS_MEDIAN[opp_segment], m, 0.5)
    open_deal = close >= horizon
    won = ~open_deal & (rng.random(m) < WIN_RATE[opp_segment])
    lost = ~open_deal & ~won
    opp_index = np.arange(m, dtype=np.int64)
    per_lead_opp = np.full(n, -1, np.int64)
    per_lead_opp[opp_lead] = opp_index
    ledger.add(opp_lead, "opportunity", opp_created, opp_index)
    last_at[opp_lead] = opp_created
    lost_reasons = np.array(LOST_REASONS, dtype=object)
    lost_reason = np.where(
        lost, lost_reasons[rng.choice(len(lost_reasons), size=m, p=[0.3, 0.25, 0.2, 0.12, 0.1, 0.03])], ""
    )
    ledger.add(opp_lead[won], "won", close[won], opp_index[won])
    ledger.add(opp_lead[lost], "lost", close[lost], opp_index[lost], lost_reason[lost])
    last_at[opp_lead[~open_deal]] = close[~open_deal]
    # Some lost deals go back to nurture.
    back = close + _lognormal_days(rng, 20, m)
    recycle = lost & (rng.random(m) < 0.2) & (back < horizon)
    ledger.add(opp_lead[recycle], "recycled", back[recycle])
    last_at[opp_lead[recycle]] = back[recycle]
    elapsed = np.clip((horizon - opp_created) / np.maximum(close - opp_created, 1), 0, 0.999)
    open_stage = np.array(["qualification", "proposal", "negotiation"], dtype=object)[(elapsed * 3).astype(int)]
    opportunities = pd.DataFrame(
        {
            "lead": opp_lead,
            "account": people["account"].to_numpy()[opp_lead] if n else np.zeros(0, np.int64),
            "owner": people["owner"].to_numpy()[opp_lead] if n else np.zeros(0, np.int8),
            "name": np.full(m, "New business", dtype=object),
            "amount": amount,
            "kind": np.full(m, "new_business", dtype=object),
            "stage": np.where(open_deal, open_stage, np.where(won, "won", "lost")).astype(object),
            "created_at": opp_created,
            "expected_close_date": _to_days(close),
            "closed_at": np.where(open_deal, -1, close),
            "lost_reason": lost_reason,
        }
    )

    # Contracts: a year from the win; renewal deals open 60-90 days before the end and close
    # before it, so every contract that ended before today was renewed or churned.
    contract_opp = opp_index[won]
    contract_start = _to_days(close[won])
    c_frames = [
        pd.DataFrame(
            {
                "opportunity": contract_opp,
                "account": opportunities["account"].to_numpy()[contract_opp],
                "start_date": contract_start,
                "end_date": _one_year_after(contract_start),
                "annual_value": amount[won],
                "renews": np.full(len(contract_opp), -1, np.int64),
            }
        )
    ]
    opp_frames = [opportunities]
    heads = np.arange(len(contract_opp), dtype=np.int64)  # contract indexes that may renew
    head_lead = opp_lead[won]
    status = {}
    next_contract, next_opp = len(contract_opp), m
    while len(heads):
        contracts_so_far = pd.concat(c_frames, ignore_index=True)
        end = contracts_so_far["end_date"].to_numpy()[heads]
        end_s = end.astype("datetime64[s]").astype(np.int64)
        opened = end_s - rng.integers(60, 91, len(heads)) * DAY - rng.integers(0, DAY, len(heads))
        closes = end_s - rng.integers(1, 46, len(heads)) * DAY - rng.integers(0, DAY, len(heads))
        has_deal = opened < horizon
        heads, head_lead, end, opened, closes = (
            a[has_deal] for a in (heads, head_lead, end, opened, closes)
        )  # fmt: skip
        k = len(heads)
        if k == 0:
            break
        value = contracts_so_far["annual_value"].to_numpy()[heads]
        renewal_amount = np.round(value * rng.uniform(1.0, 1.12, k), -2)
        decided = closes < horizon
        renewed = decided & (rng.random(k) < RENEWAL_RATE)
        churned = decided & ~renewed
        index = next_opp + np.arange(k, dtype=np.int64)
        next_opp += k
        elapsed = np.clip((horizon - opened) / np.maximum(closes - opened, 1), 0, 0.999)
        open_stage = np.array(["qualification", "proposal", "negotiation"], dtype=object)[(elapsed * 3).astype(int)]
        churn_reason = lost_reasons[rng.choice(4, size=k, p=[0.35, 0.25, 0.25, 0.15])]
        opp_frames.append(
            pd.DataFrame(
                {
                    "lead": head_lead,
                    "account": contracts_so_far["account"].to_numpy()[heads],
                    "owner": people["owner"].to_numpy()[head_lead],
                    "name": _strings(["Renewal ", pd.Series(end).dt.year.astype(str).to_numpy(dtype=object)]),
                    "amount": renewal_amount,
                    "kind": np.full(k, "renewal", dtype=object),
                    "stage": np.where(~decided, open_stage, np.where(renewed, "won", "lost")).astype(object),
                    "created_at": opened,
                    "expected_close_date": end - np.timedelta64(1, "D"),
                    "closed_at": np.where(decided, closes, -1),
                    "lost_reason": np.where(churned, churn_reason, "").astype(object),
                }
            )
        )
        ledger.add(head_lead[renewed], "renewed", closes[renewed], index[renewed])
        ledger.add(head_lead[churned], "churned", closes[churned], index[churned], churn_reason[churned])
        last_at[head_lead[decided]] = closes[decided]
        for contract, outcome in ((heads[renewed], "renewed"), (heads[churned], "churned")):
            status.update(dict.fromkeys(contract.tolist(), outcome))
        new_start = end[renewed]
        c_frames.append(
            pd.DataFrame(
                {
                    "opportunity": index[renewed],
                    "account": contracts_so_far["account"].to_numpy()[heads[renewed]],
                    "start_date": new_start,
                    "end_date": _one_year_after(new_start),
                    "annual_value": renewal_amount[renewed],
                    "renews": heads[renewed],
                }
            )
        )
        heads = next_contract + np.arange(int(renewed.sum()), dtype=np.int64)
        head_lead = head_lead[renewed]
        next_contract += len(heads)
    contracts = pd.concat(c_frames, ignore_index=True)
    contract_status = np.full(len(contracts), "active", dtype=object)
    if status:
        contract_status[np.fromiter(status.keys(), np.int64)] = np.array(list(status.values()), dtype=object)
    contracts["status"] = contract_status
    opportunities = pd.concat(opp_frames, ignore_index=True)
    timeline = {
        "first_at": first_at,
        "lead_at": lead_at,
        "sal_at": sal_at,
        "last_at": last_at,
        "captured_on_first_touch": captured_on_first_touch,
        "reached_mql": reached_mql | (sal_at >= 0),
        "deal": per_lead_opp >= 0,
        "won": np.isin(everyone, opp_lead[won]),
    }
    return ledger, opportunities, contracts, timeline


def _touches(rng: Generator, people: pd.DataFrame, timeline: dict, campaigns: pd.DataFrame, horizon: int):
    """About ten touches per lead: the first touch at the entry into ``touched`` (or the capture
    itself), a form fill at the capture, and more the further a lead went."""
    n = len(people)
    first_at, lead_at, sal_at, last_at = (timeline[k] for k in ("first_at", "lead_at", "sal_at", "last_at"))
    captured = lead_at >= 0
    separate_capture = captured & ~timeline["captured_on_first_touch"]
    depth = (
        captured.astype(int) + timeline["reached_mql"] + (sal_at >= 0) + timeline["deal"] + timeline["won"]
    )  # fmt: skip
    extra = rng.poisson(np.array([4.0, 7.0, 12.0, 16.0, 20.0, 26.0])[depth])
    count = 1 + separate_capture + extra
    total = int(count.sum())
    lead = np.repeat(np.arange(n, dtype=np.int64), count)
    offset = np.repeat(np.cumsum(count) - count, count)
    k = np.arange(total, dtype=np.int64) - offset
    is_capture = (k == 1) & separate_capture[lead]
    is_first = k == 0
    later = ~is_first & ~is_capture
    tail = rng.integers(0, 30 * DAY, n)
    span = np.maximum(last_at - first_at, 0) + tail
    when = first_at[lead] + 1 + (rng.random(total) * span[lead]).astype(np.int64)
    when = np.minimum(when, horizon - 1)
    when[is_first] = first_at[lead[is_first]]
    when[is_capture] = lead_at[lead[is_capture]]
    channel = np.empty(total, np.int64)
    channel[later] = rng.choice(len(CHANNELS), size=int(later.sum()), p=_weights(LATER_TOUCH_MIX))
    first_mix = np.where(timeline["captured_on_first_touch"][lead[is_first]], 0, 1)
    channel[is_first] = np.where(
        first_mix == 0,
        rng.choice(len(CHANNELS), size=int(is_first.sum()), p=_weights(CAPTURE_MIX)),
        rng.choice(len(CHANNELS), size=int(is_first.sum()), p=_weights(FIRST_TOUCH_MIX)),
    )
    channel[is_capture] = rng.choice(len(CHANNELS), size=int(is_capture.sum()), p=_weights(CAPTURE_MIX))
    # After sales accepted a lead, half of its touches are the rep's own meetings and calls.
    sales = later & (sal_at[lead] >= 0) & (when >= sal_at[lead]) & (rng.random(total) < 0.5)
    channel[sales] = C["outbound"]
    type_code = np.empty(total, np.int8)
    type_index = {name: i for i, name in enumerate(TOUCH_TYPES)}
    for code, slug in enumerate(CHANNELS):
        here = channel == code
        names, weights = zip(*CHANNEL_TOUCH_TYPES[slug], strict=True)
        codes = np.array([type_index[name] for name in names], np.int8)
        type_code[here] = codes[rng.choice(len(codes), size=int(here.sum()), p=weights)]
    form_fill = is_capture | (is_first & timeline["captured_on_first_touch"][lead])
    type_code[form_fill] = type_index["form_fill"]
    # The campaign: the latest of the channel's campaigns started by then (none for part of
    # the organic and direct traffic).
    campaign = np.full(total, -1, np.int64)
    begin = campaigns["begin"].to_numpy() if len(campaigns) else np.zeros(0, np.int64)
    for code, slug in enumerate(CHANNELS):
        own = np.flatnonzero(campaigns["channel"].to_numpy() == code) if len(campaigns) else np.zeros(0, int)
        here = np.flatnonzero(channel == code)
        if not len(own) or not len(here):
            continue
        order = own[np.argsort(begin[own], kind="stable")]
        pick = np.searchsorted(begin[order], when[here], side="right") - 1
        with_campaign = (pick >= 0) & (rng.random(len(here)) >= NO_CAMPAIGN_SHARE.get(slug, 0.03))
        campaign[here[with_campaign]] = order[pick[with_campaign]]
    return pd.DataFrame(
        {
            "lead": lead,
            "account": people["account"].to_numpy()[lead] if n else np.zeros(0, np.int64),
            "campaign": campaign,
            "channel": channel,
            "type": type_code,
            "occurred_at": when,
        }
    )
