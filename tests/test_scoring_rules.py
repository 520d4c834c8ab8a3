"""Scoring rules per workspace: the formula, decay and window, today's points as the defaults, the
set-based rescore (a touch, a rule change's job, the nightly task), qualification when the
threshold is crossed, the preview, the explanation, and the scoring page's permissions."""

import datetime as dt
import math
from collections import Counter

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.services import account_create
from attribution.models import Channel, Touch
from attribution.services import touch_record
from funnel.models import StageEvent
from funnel.services import lead_stage_move
from leads.models import Lead, RescoreJob, ScoringRule
from leads.rescoring import rescore_workspace
from leads.scoring import (
    DAY_MS,
    DEFAULT_RULES,
    SENIORITY_POINTS,
    TOUCH_POINTS,
    Rule,
    behaviour_points,
    explain_score,
    final_scores,
    rules_of,
)
from leads.scoring_services import scoring_preview, scoring_rules_save
from leads.services import leads_rescore
from leads.tasks import enqueue_waiting_rescores, rescore_every_workspace
from workspaces.models import AuditEvent, Role, Workspace
from workspaces.scoping import scopes_disabled, workspace_scope

from .factories import LeadFactory

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


# --- the formula ----------------------------------------------------------------------------


def reference_score(fit: int, touches: list[tuple[int, int | None, float]]) -> int:
    """The issue's formula, one lead at a time: ``touches`` are (points, half-life, age in days)."""
    behaviour = sum(points * (2 ** (-age / half_life) if half_life else 1) for points, half_life, age in touches)
    return min(100, max(0, math.floor(round(fit + behaviour, 6))))


@given(
    leads=st.lists(
        st.tuples(
            st.integers(-100, 100),
            st.lists(
                st.tuples(st.integers(0, 3), st.floats(0, 400, allow_nan=False).map(lambda d: round(d, 3))),
                max_size=8,
            ),
        ),
        min_size=1,
        max_size=6,
    ),
    kinds=st.lists(
        st.tuples(st.integers(-100, 100), st.one_of(st.none(), st.integers(1, 365))), min_size=4, max_size=4
    ),
)
def test_the_vectorised_score_is_the_formula(leads, kinds):
    rules = [Rule("touch", f"t{i}", points, half_life) for i, (points, half_life) in enumerate(kinds)]
    lead_index, codes, ages = [], [], []
    for index, (_fit, touches) in enumerate(leads):
        for code, age in touches:
            lead_index.append(index)
            codes.append(code)
            ages.append(age * DAY_MS)
    behaviour = behaviour_points(
        lead_index=np.array(lead_index, dtype=np.int64),
        type_code=np.array(codes, dtype=np.int64),
        age_ms=np.array(ages, dtype=np.float64),
        touch_rules=rules,
        leads=len(leads),
    )
    got = final_scores(np.array([fit for fit, _ in leads]), behaviour).tolist()
    expected = [
        reference_score(fit, [(kinds[code][0], kinds[code][1], age) for code, age in touches]) for fit, touches in leads
    ]
    assert got == expected


def test_a_half_life_halves_a_touch_after_that_many_days(scoped):
    _set_touch_rule(scoped, "meeting", points=25, half_life=10)
    lead = LeadFactory(workspace=scoped, email="pat@example.com")
    _touch(scoped, lead, "meeting", days_ago=10)
    assert _score(lead) == 12  # 12.5, floored
    _touch(scoped, lead, "meeting", days_ago=20)
    assert _score(lead) == 18  # 12.5 + 6.25
    _touch(scoped, lead, "meeting", days_ago=0)
    assert _score(lead) == 43  # + 25


def test_a_touch_outside_the_engagement_window_counts_nothing_even_with_a_half_life(scoped):
    _set_touch_rule(scoped, "meeting", points=25, half_life=365)
    lead = LeadFactory(workspace=scoped, email="pat@example.com")
    _touch(scoped, lead, "meeting", days_ago=scoped.engagement_window_days + 1)
    assert _score(lead) == 0
    _touch(scoped, lead, "meeting", days_ago=scoped.engagement_window_days - 1)
    assert _score(lead) == 21  # 25 * 2 ** (-89 / 365) = 21.1


def test_fit_comes_from_the_lead_and_its_account_and_the_score_stays_between_0_and_100(scoped):
    account = account_create(
        workspace=scoped, name="Acme", domain="acme.example", segment="enterprise", industry="Software", country="DE"
    )
    account.employee_count = 700
    account.save()
    rules = [
        *DEFAULT_RULES,
        Rule("segment", "enterprise", 10),
        Rule("industry", "software", 7),  # any case
        Rule("country", "de", 3),
        Rule("employees", "", 5, min_employees=500, max_employees=999),
        Rule("employees", "", 4, min_employees=1000),
    ]
    scoring_rules_save(workspace=scoped, rules=rules, mql_threshold=100)
    lead = LeadFactory(workspace=scoped, email="cfo@acme.example", seniority="executive", account=account)
    leads_rescore(workspace=scoped, lead_ids=[lead.pk])
    assert _score(lead) == 15 + 10 + 7 + 3 + 5
    harsh = [Rule("seniority", "director", -100) if r == Rule("seniority", "director", 10) else r for r in rules]
    scoring_rules_save(workspace=scoped, rules=harsh, mql_threshold=100)
    low = LeadFactory(workspace=scoped, email="dir@acme.example", seniority="director")
    leads_rescore(workspace=scoped, lead_ids=[low.pk])
    assert _score(low) == 0
    for _ in range(5):
        _touch(scoped, lead, "meeting", days_ago=1)
    assert _score(lead) == 100


# --- defaults: today's points ------------------------------------------------------------------


def test_a_new_workspace_starts_with_todays_points_and_no_half_life(scoped):
    assert SENIORITY_POINTS == {"executive": 15, "director": 10, "manager": 5, "individual": 0}
    assert TOUCH_POINTS == {
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
    assert sorted(rules_of(scoped), key=repr) == sorted(DEFAULT_RULES, key=repr)
    assert not ScoringRule.objects.filter(half_life_days__isnull=False).exists()


def _todays_score(seniority: str, counts: Counter) -> int:
    """The score as it was computed before rules were per workspace (the removed ``lead_score``)."""
    return min(100, SENIORITY_POINTS.get(seniority or "", 0) + sum(TOUCH_POINTS[k] * n for k, n in counts.items()))


@pytest.mark.django_db
def test_rescoring_the_demo_with_the_default_rules_moves_no_score():
    call_command("seed_demo", "--workspace", "demo", "--leads", "300", "--seed", "5", "--today", "2026-11-22")
    workspace = Workspace.objects.get(slug="demo")
    with workspace_scope(workspace):
        # the demo's scores are drawn at random: first give every lead the score today's code gives it
        window = NOW - dt.timedelta(days=workspace.engagement_window_days)
        counts: dict[int, Counter] = {}
        for lead_id, kind in Touch.objects.filter(occurred_at__gte=window, occurred_at__lte=NOW).values_list(
            "lead_id", "type"
        ):
            counts.setdefault(lead_id, Counter())[kind] += 1
        leads = list(Lead.objects.filter(erased_at__isnull=True, merged_into__isnull=True))
        for lead in leads:
            lead.score = _todays_score(lead.seniority, counts.get(lead.pk, Counter()))
        Lead.objects.bulk_update(leads, ["score"])
        assert len({lead.score for lead in leads}) > 10, "the demo should give many different scores"
        result = rescore_workspace(workspace=workspace, now=NOW)
    assert (len(result.ids), result.changed, result.qualified) == (len(leads), 0, [])


# --- rescoring: set-based, only what changed ---------------------------------------------------


def test_a_touch_rescores_in_the_same_number_of_queries_for_ten_leads_or_fifty(scoped):
    def queries(n: int) -> int:
        leads = [LeadFactory(workspace=scoped, email=f"p{n}-{i}@example.com") for i in range(n)]
        for lead in leads:
            Touch.objects.create(
                workspace=scoped, lead=lead, channel=Channel.objects.get(slug="events"), type="meeting", occurred_at=NOW
            )
        with CaptureQueriesContext(connection) as captured:
            leads_rescore(workspace=scoped, lead_ids=[lead.pk for lead in leads], now=NOW + dt.timedelta(hours=1))
        assert all(_score(lead) == 25 for lead in leads)
        return len(captured)

    assert queries(10) == queries(50)


@pytest.mark.django_db(transaction=True)  # a version is its transaction's id on PostgreSQL: commit between
def test_only_changed_scores_are_written_and_reach_the_change_feed(scoped):
    hot = LeadFactory(workspace=scoped, email="hot@example.com")
    cold = LeadFactory(workspace=scoped, email="cold@example.com")
    _touch(scoped, hot, "meeting", days_ago=1)
    before = {lead.pk: lead.sync_version for lead in Lead.objects.filter(pk__in=[hot.pk, cold.pk])}
    result = rescore_workspace(workspace=scoped)
    assert result.changed == 0
    _set_touch_rule(scoped, "meeting", points=30)
    result = rescore_workspace(workspace=scoped)
    assert result.changed == 1
    after = {lead.pk: lead.sync_version for lead in Lead.objects.filter(pk__in=[hot.pk, cold.pk])}
    assert after[hot.pk] > before[hot.pk]
    assert after[cold.pk] == before[cold.pk]


# --- a rule change: preview, audit, the rescore job, qualification -------------------------------


@pytest.fixture
def rep(scoped, member_factory):
    return member_factory(scoped, role=Role.SALES_REP, email="rep@acme.test").user


def _rules_with(workspace, **touch_points) -> list[Rule]:
    return [
        Rule(r.kind, r.value, touch_points.get(r.value, r.points), r.half_life_days) if r.kind == "touch" else r
        for r in rules_of(workspace)
    ]


def test_the_preview_counts_the_leads_a_change_would_qualify(scoped, rep):
    warm = [LeadFactory(workspace=scoped, email=f"warm{i}@example.com") for i in range(3)]
    for lead in warm:
        _touch(scoped, lead, "webinar_attended", days_ago=2)  # 15 points
    mql = LeadFactory(workspace=scoped, email="mql@example.com")
    _touch(scoped, mql, "webinar_attended", days_ago=2)
    lead_stage_move(workspace=scoped, lead=mql, to_stage="mql")
    LeadFactory(workspace=scoped, email="quiet@example.com")
    assert scoring_preview(workspace=scoped, rules=rules_of(scoped), mql_threshold=50) == 0
    assert scoring_preview(workspace=scoped, rules=_rules_with(scoped, webinar_attended=50), mql_threshold=50) == 3
    assert scoring_preview(workspace=scoped, rules=rules_of(scoped), mql_threshold=15) == 3
    assert Lead.objects.filter(stage="mql").count() == 1  # a preview writes nothing


def test_saving_a_rule_audits_it_and_its_job_qualifies_the_leads_that_cross_the_threshold(
    scoped, rep, admin_user, django_capture_on_commit_callbacks
):
    warm = [LeadFactory(workspace=scoped, email=f"warm{i}@example.com") for i in range(3)]
    for lead in warm:
        _touch(scoped, lead, "webinar_attended", days_ago=2)
    LeadFactory(workspace=scoped, email="quiet@example.com")
    rules = _rules_with(scoped, webinar_attended=50)
    assert scoring_preview(workspace=scoped, rules=rules, mql_threshold=50) == 3
    with django_capture_on_commit_callbacks(execute=True):
        job = scoring_rules_save(workspace=scoped, rules=rules, mql_threshold=50, actor=admin_user)
    job.refresh_from_db()  # eager: the job ran when the transaction committed
    assert (job.status, job.leads_total, job.leads_done, job.changed, job.qualified) == ("done", 4, 4, 3, 3)
    for lead in warm:
        lead.refresh_from_db()
        assert (lead.score, lead.stage, lead.owner_id) == (50, "mql", rep.pk)
        event = StageEvent.objects.filter(lead=lead).order_by("-id").first()
        assert (event.stage, event.source) == ("mql", "rule")
    event = AuditEvent.objects.get(action="scoring.changed")
    assert event.actor_user == admin_user
    assert event.payload["changes"] == {
        "touch:webinar_attended": [{"points": 15, "half_life_days": None}, {"points": 50, "half_life_days": None}]
    }
    assert scoring_rules_save(workspace=scoped, rules=rules, mql_threshold=50) is None  # nothing changed


def test_a_threshold_lowered_qualifies_the_leads_now_over_it(scoped, rep, django_capture_on_commit_callbacks):
    lead = LeadFactory(workspace=scoped, email="warm@example.com")
    _touch(scoped, lead, "webinar_attended", days_ago=2)
    with django_capture_on_commit_callbacks(execute=True):
        scoring_rules_save(workspace=scoped, rules=rules_of(scoped), mql_threshold=15)
    lead.refresh_from_db()
    assert (lead.stage, scoped.mql_threshold) == ("mql", 15)
    assert Workspace.objects.get(pk=scoped.pk).mql_threshold == 15


def test_a_recycled_lead_over_the_threshold_is_not_qualified_again_by_a_rescore(scoped, rep):
    scoped.mql_threshold = 20
    scoped.save()
    lead = LeadFactory(workspace=scoped, email="back@example.com")
    _touch(scoped, lead, "meeting", days_ago=1)  # 25: an MQL
    lead_stage_move(workspace=scoped, lead=lead, to_stage="sal")
    lead_stage_move(workspace=scoped, lead=lead, to_stage="rejected", reason="timing")
    lead.refresh_from_db()
    assert (lead.stage, lead.score) == ("recycled", 25)
    assert rescore_workspace(workspace=scoped).qualified == []
    lead.refresh_from_db()
    assert lead.stage == "recycled"


def test_a_job_whose_message_was_lost_is_sent_by_the_sweep(scoped, monkeypatch):
    from leads import tasks

    sent = []
    monkeypatch.setattr("leads.scoring_services.enqueue_on_commit", lambda task, *args: None)  # the broker was down
    job = scoring_rules_save(workspace=scoped, rules=_rules_with(scoped, meeting=30), mql_threshold=50)
    assert RescoreJob.objects.get(pk=job.pk).status == "queued"
    monkeypatch.setattr(tasks, "enqueue", lambda task, *args: sent.append(args) or task.delay(*args))
    assert enqueue_waiting_rescores() == 0  # too recent: its message may still be in the queue
    RescoreJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    with scopes_disabled():
        assert enqueue_waiting_rescores() == 1
    assert sent == [(job.pk,)]
    assert RescoreJob.objects.get(pk=job.pk).status == "done"


# --- the nightly rescore -----------------------------------------------------------------------


def test_the_nightly_task_decays_every_workspace_and_is_idempotent(workspace, other_workspace):
    for ws in (workspace, other_workspace):
        with workspace_scope(ws):
            _set_touch_rule(ws, "meeting", points=20, half_life=1)
            lead = LeadFactory(workspace=ws, email="pat@example.com")
            _touch(ws, lead, "meeting", days_ago=0)
            Lead.objects.filter(pk=lead.pk).update(score=20)  # scored a day ago, when it was fresh
            Touch.objects.filter(lead=lead).update(occurred_at=timezone.now() - dt.timedelta(days=1, minutes=1))
    with scopes_disabled():
        assert rescore_every_workspace() == 2
        assert sorted(Lead.objects.values_list("score", flat=True)) == [9, 9]  # 20 / 2, a minute older
        versions = sorted(Lead.objects.values_list("sync_version", flat=True))
        rescore_every_workspace()
        assert sorted(Lead.objects.values_list("sync_version", flat=True)) == versions


def test_the_nightly_task_is_in_beats_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"leads.tasks.rescore_every_workspace", "leads.tasks.enqueue_waiting_rescores"} <= tasks


# --- the explanation ------------------------------------------------------------------------


def test_the_explanation_lists_each_rule_that_gave_points_and_adds_up_to_the_score(scoped):
    account = account_create(workspace=scoped, name="Acme", domain="acme.example", segment="enterprise")
    scoring_rules_save(
        workspace=scoped,
        rules=[*_rules_with(scoped), Rule("segment", "enterprise", 10), Rule("segment", "smb", 3)],
        mql_threshold=100,
    )
    _set_touch_rule(scoped, "web_visit", points=4, half_life=7)
    lead = LeadFactory(workspace=scoped, email="cfo@acme.example", seniority="executive", account=account)
    for days in (1, 2):
        _touch(scoped, lead, "meeting", days_ago=days)
    _touch(scoped, lead, "web_visit", days_ago=7)
    lead.refresh_from_db()
    reasons = explain_score(workspace=scoped, lead=lead)
    assert reasons == [
        ("Seniority: Executive", 15),
        ("Segment: Enterprise", 10),
        ("Meeting × 2", 50),
        ("Web visit × 1, half-life 7 days", 2),
    ]
    assert math.floor(sum(points for _, points in reasons)) == lead.score == 77


# --- the scoring page ---------------------------------------------------------------------------


@pytest.fixture
def admin_user(workspace, member_factory):
    return member_factory(workspace, role=Role.ADMIN, email="admin@acme.test").user


def _page(workspace):
    return reverse("scoring", kwargs={"workspace_slug": workspace.slug})


def _posted(page, **changes) -> dict:
    """The form's current values (as the page shows them), with some changed."""
    form = page.context["form"]
    data = {name: "" if form[name].value() is None else form[name].value() for name in form.fields}
    return data | changes


@pytest.mark.parametrize("role", [Role.MANAGER, Role.MARKETER, Role.SALES_REP])
def test_every_member_reads_the_rules_and_only_admins_change_them(client, workspace, member_factory, role):
    client.force_login(member_factory(workspace, role=role).user)
    page = client.get(_page(workspace))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="touch__meeting__points"' in html and "disabled" in html
    assert 'id="scoring-review"' not in html
    posted = client.post(_page(workspace), _posted(page, touch__meeting__points="90", review="1"))
    assert posted.status_code == 403
    with workspace_scope(workspace):
        assert {r.value: r.points for r in rules_of(workspace) if r.kind == "touch"}["meeting"] == 25


def test_another_workspaces_scoring_page_and_job_are_404(client, workspace, other_workspace, member_factory):
    client.force_login(member_factory(workspace, role=Role.ADMIN).user)
    assert client.get(_page(other_workspace)).status_code == 404
    with workspace_scope(other_workspace):
        job = RescoreJob.objects.create(workspace=other_workspace, previous_threshold=50)
    url = reverse("scoring-job-progress", kwargs={"workspace_slug": workspace.slug, "pk": job.pk})
    assert client.get(url).status_code == 404


def test_an_admin_reviews_a_change_sees_the_count_and_saves_it(
    client, workspace, admin_user, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with workspace_scope(workspace):
        for i in range(2):
            _touch(workspace, LeadFactory(workspace=workspace, email=f"w{i}@example.com"), "webinar_attended", 1)
    client.force_login(admin_user)
    page = client.get(_page(workspace))
    review = client.post(_page(workspace), _posted(page, touch__webinar_attended__points="60", review="1"))
    assert review.status_code == 200
    assert review.context["preview"] == 2
    assert "<strong>2</strong> leads would qualify now" in review.content.decode()
    with workspace_scope(workspace):
        assert not RescoreJob.objects.exists()  # reviewing saves nothing
    # a confirmation of other values than those reviewed shows their preview instead of saving
    changed = _posted(review, touch__webinar_attended__points="10", confirm="1")
    assert client.post(_page(workspace), changed).context["preview"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(_page(workspace), _posted(review, confirm="1"))
    assert saved.status_code == 302
    with workspace_scope(workspace):
        job = RescoreJob.objects.get()
        assert (job.status, job.qualified, job.created_by) == ("done", 2, admin_user)
        assert {r.value: r.points for r in rules_of(workspace) if r.kind == "touch"}["webinar_attended"] == 60
    with django_assert_max_num_queries(8):
        shown = client.get(_page(workspace))
    assert 'data-status="done"' in shown.content.decode()
    with django_assert_max_num_queries(6):
        progress = client.get(reverse("scoring-job-progress", kwargs={"workspace_slug": workspace.slug, "pk": job.pk}))
    assert "2 leads became MQLs" in progress.content.decode()


def test_the_page_refuses_a_bad_rule_and_saves_a_new_industry_and_employee_range(client, workspace, admin_user):
    client.force_login(admin_user)
    page = client.get(_page(workspace))
    bad = client.post(_page(workspace), _posted(page, industry__0__points="5", review="1"))
    assert bad.status_code == 200 and bad.context["preview"] is None
    assert "Say what this rule matches" in bad.content.decode()
    good = _posted(
        page,
        industry__0__value="Software",
        industry__0__points="8",
        employees__0__min="100",
        employees__0__points="4",
        review="1",
    )
    review = client.post(_page(workspace), good)
    assert client.post(_page(workspace), _posted(review, confirm="1")).status_code == 302
    with workspace_scope(workspace):
        assert Rule("industry", "Software", 8) in rules_of(workspace)
        assert Rule("employees", "", 4, min_employees=100) in rules_of(workspace)
    assert 'value="Software"' in client.get(_page(workspace)).content.decode()


# --- helpers ----------------------------------------------------------------------------------


def _set_touch_rule(workspace, kind: str, *, points: int, half_life: int | None = None) -> None:
    ScoringRule.objects.filter(workspace=workspace, kind="touch", value=kind).update(
        points=points, half_life_days=half_life
    )


def _touch(workspace, lead, kind: str, days_ago: float):
    return touch_record(
        workspace=workspace,
        lead=lead,
        channel=Channel.objects.get(slug="events"),
        type=kind,
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def _score(lead) -> int:
    lead.refresh_from_db()
    return lead.score
