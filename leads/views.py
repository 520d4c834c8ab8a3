from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Tier
from funnel.stages import EventSource
from workspaces.decorators import workspace_view
from workspaces.listing import Sort, capped_count, keyset_page, list_query
from workspaces.models import Role
from workspaces.permissions import Action, role_can

from .forms import LeadFilterForm, LeadForm, MergeForm, TouchForm
from .models import Lead
from .scoring import explain_score
from .selectors import lead_list, lead_timeline, live_leads
from .services import lead_create, lead_merge, lead_update


def _summary(lead):
    """What a person compares before merging two records (one query for the counts)."""
    counted = (
        live_leads()
        .filter(pk=lead.pk)
        .annotate(
            n_touches=Count("touches", distinct=True),
            n_events=Count("stage_events", distinct=True),
            n_opportunities=Count("opportunities", distinct=True),
        )
        .values("n_touches", "n_events", "n_opportunities")
        .get()
    )
    return {"lead": lead} | counted


@workspace_view(Action.MERGE_LEADS)
def lead_merge_page(request):
    """Merge two records of one person: compare them, then confirm."""
    data = request.POST if request.method == "POST" else (request.GET if "survivor" in request.GET else None)
    form = MergeForm(data)
    compared = None
    if data is not None and form.is_valid():
        survivor, loser = form.cleaned_data["survivor"], form.cleaned_data["loser"]
        if request.method == "POST" and "confirm" in request.POST:
            try:
                merge = lead_merge(workspace=request.workspace, survivor=survivor, loser=loser, actor=request.user)
            except ValidationError as error:
                form.add_error(None, " ".join(error.messages))
            else:
                moved = merge.moved
                messages.success(
                    request,
                    gettext(
                        "%(merged)s is merged into %(survivor)s: %(touches)s touches, %(events)s stage events "
                        "and %(opportunities)s opportunities moved."
                    )
                    % {
                        "merged": merge.loser_email or gettext("Lead #%(id)s") % {"id": loser.pk},
                        "survivor": survivor.email,
                        "touches": moved["touches"],
                        "events": moved["stage_events"],
                        "opportunities": moved["opportunities"],
                    },
                )
                return redirect("lead-merge", workspace_slug=request.workspace.slug)
        if form.is_valid():
            compared = [_summary(survivor), _summary(loser)]
    return render(request, "leads/merge.html", {"form": form, "compared": compared})


# --- the lead list, the lead page, the lead form, logging a touch ------------------------------

LEAD_SORTS = [
    Sort("created", gettext_lazy("Newest"), ("-created_at",)),
    Sort("score", gettext_lazy("Score"), ("-score",)),
    Sort("name", pgettext_lazy("person", "Name"), ("last_name", "first_name")),
]


def may_edit_lead(membership, lead) -> bool:
    """EDIT_RECORDS changes leads; a sales rep only the leads they own (issue 11's table)."""
    if not role_can(membership.role, Action.EDIT_RECORDS):
        return False
    return membership.role != Role.SALES_REP or lead.owner_id == membership.user_id


def _editable_lead_or_403(request, pk: int) -> Lead:
    lead = get_object_or_404(live_leads().filter(workspace=request.workspace), pk=pk)
    if not may_edit_lead(request.membership, lead):
        raise PermissionDenied(gettext("Your role may change only the leads you own."))
    return lead


def _target_lists(request):
    from accounts.models import TargetList

    if not role_can(request.membership.role, Action.MANAGE_CAMPAIGNS):
        return []
    return list(TargetList.objects.filter(workspace=request.workspace).order_by("name", "id").values_list("id", "name"))


@workspace_view(Action.VIEW_WORKSPACE)
def lead_list_page(request):
    """Every live lead, filtered, searched and sorted from the URL, in keyset pages, with the
    capped count; an htmx request (the filter bar, the pager) gets only the results."""
    form = LeadFilterForm(request.GET, workspace=request.workspace)
    query = list_query(request, LEAD_SORTS)
    filters = form.values()
    leads = lead_list(workspace=request.workspace, filters=filters, search=query.search)
    page = keyset_page(leads, query)
    count = capped_count(leads, at_least=len(page.rows) + bool(page.next_cursor))
    context = {
        "filter_form": form,
        "list_query": query,
        "sort_urls": {sort.key: query.sort_url(sort.key) for sort in LEAD_SORTS},
        "page": page,
        "count": count,
        "filtered": bool(filters or query.search),
        "target_lists": _target_lists(request),
        "tiers": Tier.choices,
        "export_url": reverse("leads-export", kwargs={"workspace_slug": request.workspace.slug}) + query.url(),
    }
    template = "leads/_list_results.html" if request.htmx and not request.htmx.boosted else "leads/list.html"
    return render(request, template, context)


@workspace_view(Action.EXPORT_DATA)
def lead_export(request):
    """Exactly the filtered list (the same filters and search as the page) as the leads CSV of
    the API and the import, in id order; audited like every export."""
    from sync.csvio import export_csv
    from sync.resources import RESOURCES
    from sync.services import export_start

    form = LeadFilterForm(request.GET, workspace=request.workspace)
    query = list_query(request, LEAD_SORTS)
    leads = lead_list(workspace=request.workspace, filters=form.values(), search=query.search)
    given = {key: value for key, value in request.GET.items() if key not in ("after", "before", "sort") and value}
    export_start(workspace=request.workspace, resource="leads", via="browser", actor=request.user, filters=given)
    # the queryset is built here, inside the request's workspace scope (see sync.views.export)
    response = StreamingHttpResponse(export_csv(RESOURCES["leads"], leads), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.workspace.slug}-leads.csv"'
    return response


@workspace_view(Action.MANAGE_CAMPAIGNS)
@require_POST
def lead_bulk(request):
    """A bulk action on the leads ticked in the list: add their accounts to a target list."""
    from accounts.models import TargetList
    from accounts.services import target_list_add_accounts

    back = request.POST.get("next", "")
    if not back.startswith("?"):
        back = ""
    url = reverse("leads", kwargs={"workspace_slug": request.workspace.slug}) + back
    ids = [int(pk) for pk in request.POST.getlist("lead") if pk.isascii() and pk.isdigit() and len(pk) < 19]
    target_list = TargetList.objects.filter(
        workspace=request.workspace, pk=_int(request.POST.get("target_list"))
    ).first()
    tier = _int(request.POST.get("tier")) or Tier.TIER_2
    if not ids or target_list is None or tier not in Tier.values:
        messages.error(request, gettext("Tick some leads and choose a target list and a tier."))
        return redirect(url)
    accounts = list(live_leads().filter(workspace=request.workspace, pk__in=ids).values_list("account_id", flat=True))
    result = target_list_add_accounts(
        workspace=request.workspace, target_list=target_list, account_ids=set(accounts) - {None}, tier=tier
    )
    messages.success(
        request,
        gettext(
            "%(list)s: %(added)s accounts added, %(moved)s moved to this tier, %(unchanged)s already there"
            " (%(without)s of the leads had no account)."
        )
        % {
            "list": target_list.name,
            "added": result["added"],
            "moved": result["moved"],
            "unchanged": result["unchanged"],
            "without": accounts.count(None),
        },
    )
    return redirect(url)


def _int(text) -> int | None:
    return int(text) if isinstance(text, str) and text.isascii() and text.isdigit() and len(text) < 19 else None


@workspace_view(Action.VIEW_WORKSPACE)
def lead_page(request, pk: int):
    """A lead: its key facts, its timeline (touches and stage entries, newest first) and its
    related records, with the actions the member's role allows."""
    lead = get_object_or_404(
        live_leads().filter(workspace=request.workspace).select_related("account", "owner", "first_touch_campaign"),
        pk=pk,
    )
    opportunities = list(lead.opportunities.filter(workspace=request.workspace).order_by("-created_at", "-id")[:20])
    context = {
        "lead": lead,
        "timeline": lead_timeline(workspace=request.workspace, lead=lead),
        "opportunities": opportunities,
        "may_edit": may_edit_lead(request.membership, lead),
        "score_reasons": explain_score(workspace=request.workspace, lead=lead),
    }
    return render(request, "leads/detail.html", context)


def _lead_form_values(form) -> dict:
    values = dict(form.cleaned_data)
    values["seniority"] = values.get("seniority") or ""
    return values


@workspace_view(Action.EDIT_RECORDS)
def lead_create_page(request):
    """A new lead, captured now (stage ``lead``), through ``lead_create`` as the API's single
    create path. A sales rep's new lead is theirs unless they name another owner."""
    form = LeadForm(request.POST or None, workspace=request.workspace)
    if request.method != "POST" and request.membership.role == Role.SALES_REP:
        form.initial["owner"] = request.user.pk
    if request.method == "POST" and form.is_valid():
        values = _lead_form_values(form)
        try:
            lead = lead_create(workspace=request.workspace, actor=request.user, source=EventSource.UI, **values)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, gettext("Lead %(email)s created.") % {"email": lead.email})
            return redirect("lead", workspace_slug=request.workspace.slug, pk=lead.pk)
    return render(request, "leads/form.html", {"form": form, "lead": None})


@workspace_view(Action.EDIT_RECORDS)
def lead_edit_page(request, pk: int):
    """Change a lead's details, account or owner through ``lead_update``."""
    lead = _editable_lead_or_403(request, pk)
    initial = {
        "email": lead.email,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "title": lead.title,
        "seniority": lead.seniority,
        "phone": lead.phone,
        "account": lead.account.domain if lead.account_id else "",
        "owner": lead.owner_id,
    }
    form = LeadForm(request.POST or None, initial=initial, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            lead_update(workspace=request.workspace, lead=lead, actor=request.user, **_lead_form_values(form))
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, gettext("Lead %(email)s saved.") % {"email": form.cleaned_data["email"]})
            return redirect("lead", workspace_slug=request.workspace.slug, pk=lead.pk)
    return render(request, "leads/form.html", {"form": form, "lead": lead})


def _form_errors(form, error: ValidationError) -> None:
    """A service's refusal on the form: on its field when it names one of the form's."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@workspace_view(Action.EDIT_RECORDS)
def lead_touch_page(request, pk: int):
    """Log a touch on a lead by hand, through ``touch_record``: the lead is rescored, and may
    become an MQL and be handed to a rep, as when the API records it."""
    from attribution.services import touch_record

    lead = _editable_lead_or_403(request, pk)
    form = TouchForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        stage_before = lead.stage
        try:
            touch_record(
                workspace=request.workspace,
                lead=lead,
                channel=data["channel"],
                campaign=data["campaign"],
                type=data["type"],
                occurred_at=data["occurred_at"],
                source=EventSource.UI,
                actor=request.user,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            lead.refresh_from_db()
            text = gettext("Touch logged. The score is now %(score)s.") % {"score": lead.score}
            if lead.stage != stage_before:
                text += " " + gettext("The lead is now in stage %(stage)s.") % {"stage": lead.get_stage_display()}
            messages.success(request, text)
            return redirect("lead", workspace_slug=request.workspace.slug, pk=lead.pk)
    return render(request, "leads/touch_form.html", {"form": form, "lead": lead})
