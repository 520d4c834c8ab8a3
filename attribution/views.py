"""The campaign pages: the list (filters, search, sort, keyset pages), one campaign's page
(its figures, latest touches and the leads it sourced), and the create, edit and close forms.
Every member reads; writes need MANAGE_CAMPAIGNS. Writes go through ``attribution.services``."""

import datetime as dt
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from funnel.reports import NoSnapshot, campaign_reach, campaign_report
from workspaces.decorators import workspace_view
from workspaces.listing import Sort, capped_count, keyset_page, list_query
from workspaces.permissions import Action, role_can

from .forms import CampaignFilterForm, CampaignForm
from .models import Campaign
from .selectors import (
    campaign_latest_touches,
    campaign_sourced_leads,
    campaigns_with_status,
    status_filter,
    workspace_today,
)
from .services import CAMPAIGN_FIELDS, campaign_close, campaign_create, campaign_reopen, campaign_update

SORTS = [
    Sort("start", gettext_lazy("Start date, newest first"), ("-start_date",)),
    Sort("start_asc", gettext_lazy("Start date, oldest first"), ("start_date",)),
    Sort("name", gettext_lazy("Name"), ("name",)),
    Sort("budget", gettext_lazy("Budget, largest first"), ("-budget",)),
    Sort("cost", gettext_lazy("Actual cost, largest first"), ("-actual_cost",)),
]
# how many sent create forms a session remembers (a form sent twice creates one campaign)
REMEMBERED_SUBMISSIONS = 20


def _can_manage(request) -> bool:
    return role_can(request.membership.role, Action.MANAGE_CAMPAIGNS)


def _campaign_or_404(request, pk: int) -> Campaign:
    campaign = campaigns_with_status(request.workspace).filter(pk=pk).first()
    if campaign is None:
        raise Http404(_("No such campaign in this workspace."))
    return campaign


@workspace_view(Action.VIEW_WORKSPACE)
def campaign_list(request):
    workspace = request.workspace
    today = workspace_today(workspace)
    query = list_query(request, SORTS)
    filter_form = CampaignFilterForm(request.GET)
    chosen = filter_form.values()
    campaigns = campaigns_with_status(workspace, today=today)
    if "channel" in chosen:
        campaigns = campaigns.filter(channel=chosen["channel"])
    if "type" in chosen:
        campaigns = campaigns.filter(type=chosen["type"])
    if "status" in chosen:
        campaigns = campaigns.filter(status_filter(chosen["status"], today))
    if "owner" in chosen:
        campaigns = campaigns.filter(owner=chosen["owner"])
    # the date range: the campaigns that run on some day of it
    if "starts_to" in chosen:
        campaigns = campaigns.filter(start_date__lte=chosen["starts_to"])
    if "starts_from" in chosen:
        campaigns = campaigns.filter(Q(end_date__isnull=True) | Q(end_date__gte=chosen["starts_from"]))
    if query.search:
        campaigns = campaigns.filter(name__icontains=query.search)
    page = keyset_page(campaigns, query)
    count = capped_count(campaigns)
    return render(
        request,
        "attribution/campaigns.html",
        {
            "page": page,
            "count": count,
            "list_query": query,
            "sort_urls": {sort.key: query.sort_url(sort.key) for sort in SORTS},
            "filter_form": filter_form,
            "filtered": bool(chosen or query.search),
            "can_manage": _can_manage(request),
        },
    )


@workspace_view(Action.VIEW_WORKSPACE)
def campaign_detail(request, pk: int):
    workspace = request.workspace
    campaign = _campaign_or_404(request, pk)
    try:
        report = campaign_report(workspace, campaign_id=campaign.pk)
    except NoSnapshot:
        report = {"computed_at": None, "rows": [], "reach": campaign_reach(workspace, campaign.pk)}
    sourced, sourced_total = campaign_sourced_leads(workspace, campaign)
    reach = report["reach"]
    reasons = list(reach["rejected_by_reason"].items())
    return render(
        request,
        "attribution/campaign.html",
        {
            "campaign": campaign,
            "figures": report["rows"][0] if report["rows"] else None,
            "computed_at": dt.datetime.fromisoformat(report["computed_at"]) if report["computed_at"] else None,
            "reach": reach,
            "reasons": reasons,
            "touches": campaign_latest_touches(workspace, campaign),
            "sourced": sourced,
            "sourced_total": sourced_total,
            "can_manage": _can_manage(request),
        },
    )


def _form_errors_from(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


def _values(form) -> dict:
    return {name: form.cleaned_data[name] for name in CAMPAIGN_FIELDS if name in form.cleaned_data}


@workspace_view(Action.MANAGE_CAMPAIGNS)
def campaign_new(request):
    workspace = request.workspace
    submitted = request.session.get("campaign_submissions", {})
    token = request.POST.get("submission", "")
    if request.method == "POST" and token and token in submitted:
        # the same form sent again (a double click, a reload): the campaign it made already exists
        return redirect("campaign", workspace_slug=workspace.slug, pk=submitted[token])
    form = CampaignForm(request.POST or None, currency=workspace.currency)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_create(workspace=workspace, actor=request.user, **_values(form))
        except ValidationError as error:
            _form_errors_from(form, error)
        else:
            if token:
                kept = list(submitted.items())[-(REMEMBERED_SUBMISSIONS - 1) :]
                request.session["campaign_submissions"] = dict(kept) | {token: campaign.pk}
            messages.success(request, _("Campaign “%(name)s” created.") % {"name": campaign.name})
            return redirect("campaign", workspace_slug=workspace.slug, pk=campaign.pk)
    return render(
        request,
        "attribution/campaign_form.html",
        {"form": form, "campaign": None, "submission": token or uuid.uuid4().hex},
    )


@workspace_view(Action.MANAGE_CAMPAIGNS)
def campaign_edit(request, pk: int):
    workspace = request.workspace
    campaign = _campaign_or_404(request, pk)
    form = CampaignForm(request.POST or None, instance=campaign, currency=workspace.currency)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_update(workspace=workspace, campaign=campaign, actor=request.user, **_values(form))
        except ValidationError as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Campaign “%(name)s” saved.") % {"name": campaign.name})
            return redirect("campaign", workspace_slug=workspace.slug, pk=campaign.pk)
    return render(request, "attribution/campaign_form.html", {"form": form, "campaign": campaign})


@workspace_view(Action.MANAGE_CAMPAIGNS)
@require_POST
def campaign_close_view(request, pk: int):
    workspace = request.workspace
    campaign = _campaign_or_404(request, pk)
    if request.POST.get("reopen"):
        campaign_reopen(workspace=workspace, campaign=campaign, actor=request.user)
        messages.success(request, _("Campaign reopened: its status follows its dates again."))
    else:
        campaign, closed = campaign_close(workspace=workspace, campaign=campaign, actor=request.user)
        if closed:
            messages.success(request, _("Campaign closed. It stays in every report and its touches are kept."))
        else:
            messages.info(request, _("This campaign was already closed."))
    return redirect("campaign", workspace_slug=workspace.slug, pk=campaign.pk)
